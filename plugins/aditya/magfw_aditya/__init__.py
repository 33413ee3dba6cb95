"""magfw mission plugin: Aditya-L1 MAG Level 1 (from L0) and Level 2 (GSE/GSM, quality)."""
