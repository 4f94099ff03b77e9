"""OneMap application shell: the settings object and the command line."""
