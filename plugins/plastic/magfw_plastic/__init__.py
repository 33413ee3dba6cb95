"""magfw mission plugin: STEREO PLASTIC L2 proton moments merged with MAG L1."""
