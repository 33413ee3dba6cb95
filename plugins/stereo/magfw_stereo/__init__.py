"""magfw mission plugin: STEREO IMPACT/MAG Level 1 (the monthly UCLA chain), STEREO-A and -B."""
