"""Credit control: may this customer be invoiced this amount now? (``services.check``)."""
