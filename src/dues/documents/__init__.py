"""The documents dues prints, below every app that sends or files them (the apps' own documents, such as
the collections case file, are built on ``pdf`` in the app).

- ``pdf``          the shared furniture: fonts (DejaVu Sans for ₹), styles, header, grids, footer, UPI block
- ``statements``   statement of account
- ``letters``      reminder, escalation and final-notice letters
- ``render_pool``  statements rendered in parallel worker processes for the dunning run
"""
