"""pytest plugin: fixtures shared by every test suite."""
