"""One module per command group, each a thin layer: parse the options, call one function of the
layers below, render the result (context, jsonout and render say how). app.py builds a command
from its module only when that command runs."""
