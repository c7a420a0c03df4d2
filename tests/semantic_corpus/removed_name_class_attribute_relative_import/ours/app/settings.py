"""Settings."""


class Config:
    VERBOSE = False
    NAME = "app"
