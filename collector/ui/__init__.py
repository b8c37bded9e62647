"""Pages a person reads in a browser: rendered on the server, escaped, no script.

Today: the read-only ticket page a notification links to, and the pages of the one-click
links. The operator console will grow here, reusing these renderers and the same store
functions as the JSON API.
"""
