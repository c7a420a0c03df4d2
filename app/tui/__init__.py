"""The supervisor screen: the Textual app, its main screen and its dialogs."""
