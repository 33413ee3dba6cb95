"""magfw mission plugin for the __Mission__ magnetometer (made by ``magfw new-plugin``)."""
