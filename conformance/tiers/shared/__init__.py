"""What more than one tier uses: the reference spec's operations and their special routes, and the objects
the checks aim at (found, or created with the run prefix). A tier imports this package and its own, never
another tier's modules (`tests/test_layers.py`)."""
