"""The documents dues prints, below every app that sends or files them.

- ``pdf``          the shared furniture: fonts (DejaVu Sans for ₹), styles, header, grids, footer, UPI block
- ``statements``   statement of account
- ``letters``      reminder, escalation and final-notice letters
- ``case_file``    a customer's whole collections history, for an escalation
- ``render_pool``  statements rendered in parallel worker processes for the dunning run
"""
