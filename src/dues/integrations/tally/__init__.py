"""TallyPrime / Tally.ERP 9: reading native XML exports (masters and Day Book) into dues.

- ``xml``: a streaming, safe parser (no DTDs, no entity expansion, no network; each master or
  voucher is handed over and dropped, so memory stays bounded on a 200 MB Day Book).
- ``importer``: customers, opening bills and vouchers posted through the ledger services,
  incremental by voucher GUID and ALTERID.
- ``check``: our residual per customer against the bill-wise outstanding the files imply.
- ``reconcile``: a Tally Day Book read as *their* ledger of us (reconciliation of a customer's books).
"""

from dues.integrations.tally.reconcile import read_tally_xml

__all__ = ["read_tally_xml"]
