"""The strategy workbench: preview, suggest, keyword edits, rename, report."""
