"""A toy magnetometer mission for magfw, packaged as a third party would package one."""
