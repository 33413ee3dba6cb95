"""What leaves the output tree: publishing to a web tree, delivery zips and notifications."""
