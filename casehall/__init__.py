"""casehall: case workflows for government service halls and citizen hotlines."""
