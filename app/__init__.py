"""The Bosun application: the command line and, later, the supervisor screen."""
