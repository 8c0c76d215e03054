"""Reports built from the store: the monthly compliance report's figures and its sending on the 1st."""
