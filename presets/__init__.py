"""The networks of the reference report (and a quick one), as TOML data files."""
