"""A chain's organization: regions (a branch's, else its city's department) and the scopes people see and act on."""
