"""keylink's service layer: plain Python, no Textual import anywhere below here.

Screens and the CLI both call into these modules; nothing here knows about either.
"""
