"""Plugins register themselves when imported."""
from plugins import csv_plugin
from plugins import xml_tags

from plugins import ini_plugin
