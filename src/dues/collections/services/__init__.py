"""The writes of the collections app, one module per thing a collector or manager does.

- ``policies``    the dunning policies and each customer's collections settings (hold, policy)
- ``dunning``     the daily dunning run: idempotent, crash-safe, one message per action
- ``messages``    message templates: rendering, the company's own wording, previews
- ``activities``  contacts with customers (calls, visits, mails) and their outcomes
- ``promises``    promises to pay, settled from receipts
- ``disputes``    disputes: the disputed part held out of dunning until resolved
- ``interest``    overdue interest (simple, compound, MSMED Act) charged as debit notes
- ``escalation``  a customer's account sent up to the AR manager or legal
- ``checks``      input checks shared by the above
"""
