"""The semantic-check corpus and the helper that turns its cases into git repositories."""
