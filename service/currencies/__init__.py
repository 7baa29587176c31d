"""Exchange rates and the reference amounts that compare rewards across currencies."""
