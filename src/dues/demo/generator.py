"""A year of receivables of an Indian industrial distributor, seeded and repeatable.

``plan_demo`` draws everything in plain Python from ``random.Random(seed)``: customers, invoices,
receipts (late, partial, with TDS and bank charges, several invoices at once, on account), credit
notes, write-offs, opening balances, cancellations and later allocations. ``build_demo`` then books
the plan through the real services (``company_init``, ``customer_create``, ``contact_add``,
``documents_post`` month by month, ``document_cancel``, ``allocation_create``), so the demo ledger,
its journal and its audit log are exactly what the desk would have produced.

The same seed and ``today`` give the same ledger (and the same ageing) on every run.

The planner tracks what each invoice still owes after every planned credit, so every allocation it
asks for fits; the services check it again anyway.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from stdnum import luhn
from stdnum.in_ import gstin as stdnum_gstin

from dues.core.gst import is_intra_state, tax_on
from dues.core.money import ZERO
from dues.core.terms import END_OF_MONTH, NET, PaymentTerms

COMPANY_NAME = "Sahyadri Industrial Supplies Pvt Ltd"
COMPANY_STATE = "27"
COMPANY_PAN = "AAKCS4821M"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "dues-demo"
# one login per role, all with the demo password (the sales user sees only Rahul Kulkarni's customers)
DEMO_USERS = [("manager", "ar_manager", "Meera Joshi"), ("pooja", "collector", "Pooja Deshpande"),
              ("billing", "billing", "Amit Shah"), ("rahul", "sales", "Rahul Kulkarni"),
              ("auditor", "auditor", "CA Suresh Iyer")]
GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: GST 2.0: from 22 September 2025 the 12% slab is gone (goods moved to 5% or 18%).
GST_REFORM = date(2025, 9, 22)

ONE = Decimal(1)
PAISA = Decimal("0.01")


def gstin_check_char(first14: str) -> str:
    """The 15th character of a GSTIN: Luhn mod 36 over the first fourteen."""
    return luhn.calc_check_digit(first14, GSTIN_ALPHABET)


def make_gstin(state: str, pan: str, entity: str = "1") -> str:
    """A valid GSTIN for ``pan`` registered in ``state`` (validated with python-stdnum)."""
    base = f"{state}{pan}{entity}Z"
    return stdnum_gstin.validate(base + gstin_check_char(base))


COMPANY_GSTIN = make_gstin(COMPANY_STATE, COMPANY_PAN)

# ---------------------------------------------------------------------------------------------
# word lists

STATES = [("27", 70.0), ("24", 8.0), ("29", 6.0), ("33", 5.0), ("07", 4.0), ("36", 4.0), ("06", 1.5), ("30", 1.5)]
REGION = {"27": "West", "24": "West", "30": "West", "29": "South", "33": "South", "36": "South",
          "07": "North", "06": "North"}
PLACES = {
    "27": ["Pune", "Nashik", "Kolhapur", "Sahyadri", "Deccan", "Konkan", "Godavari", "Indrayani", "Chakan",
           "Bhosari", "Satara", "Vidarbha", "Thane", "Sangli"],
    "24": ["Narmada", "Saurashtra", "Vadodara", "Rajkot", "Sabarmati", "Kutch"],
    "29": ["Kaveri", "Mysore", "Peenya", "Tunga", "Malnad"],
    "33": ["Coimbatore", "Kongu", "Vaigai", "Hosur", "Chola"],
    "07": ["Capital", "Okhla", "Yamuna", "Dilli", "Naraina"],
    "36": ["Deccan", "Golconda", "Kakatiya", "Balanagar"],
    "06": ["Faridabad", "Manesar", "Haryana"],
    "30": ["Mandovi", "Goa", "Konkan"],
}
COMMON_PLACES = ["Bharat", "Hind", "National", "Western", "Supreme", "Apex", "Precision", "Universal", "Metro",
                 "Royal", "Star", "Prime", "Unique", "Excel", "Pioneer", "Everest", "Galaxy", "Sunrise"]
SURNAMES = {
    "27": ["Patil", "Deshmukh", "Jadhav", "Kulkarni", "Joshi", "Shinde", "Pawar", "More", "Gaikwad", "Chavan",
           "Bhosale", "Kale", "Sawant", "Jain", "Oswal", "Lodha", "Bafna", "Shah", "Mehta", "Agarwal", "Shaikh"],
    "24": ["Patel", "Shah", "Mehta", "Desai", "Parikh", "Modi", "Thakkar", "Panchal"],
    "29": ["Gowda", "Shetty", "Rao", "Hegde", "Kamath", "Pai"],
    "33": ["Iyer", "Krishnan", "Subramanian", "Natarajan", "Pillai", "Chettiar"],
    "07": ["Gupta", "Agarwal", "Sharma", "Malhotra", "Bansal", "Arora", "Khanna", "Chopra"],
    "36": ["Reddy", "Rao", "Naidu", "Goud", "Varma"],
    "06": ["Yadav", "Singh", "Gupta", "Jindal", "Goyal"],
    "30": ["Naik", "Kamat", "Desai", "Fernandes", "Prabhu"],
}
FIRST_NAMES = ["Amit", "Sunil", "Rajesh", "Prakash", "Suresh", "Mahesh", "Nitin", "Sachin", "Vijay", "Anil",
               "Deepak", "Ramesh", "Manoj", "Kiran", "Swati", "Priya", "Neha", "Meena", "Rohit", "Ganesh",
               "Harish", "Arvind", "Lakshmi", "Karthik", "Venkatesh", "Farhan", "Joseph", "Gurpreet"]
DEITIES = ["Ganesh", "Balaji", "Sai", "Laxmi", "Mahalaxmi", "Bhavani", "Ambika", "Durga", "Gajanan", "Vitthal",
           "Khandoba", "Hanuman", "Krishna", "Siddhivinayak", "Tuljabhavani", "Sai Krupa", "Om Sai", "Renuka"]
DEITY_PREFIX = ["Shree", "Shri", "Jai", "Shree", "Sri"]
TRADES = {
    "Retail": ["Hardware Mart", "Hardware Stores", "Traders", "Electricals", "Hardware & Paints", "Tools Centre",
               "Sanitary & Hardware", "Steel Centre", "Hardware", "Paints & Hardware"],
    "Wholesale": ["Trading Company", "Distributors", "Agencies", "Sales Corporation", "Enterprises",
                  "Industrial Corporation", "Tools & Fasteners", "Pipes & Fittings", "Bearings House", "Marketing",
                  "Traders", "Industrial Supplies"],
    "Project": ["Infra Projects", "Constructions", "Engineers & Contractors", "Infrastructure", "Builders",
                "Projects", "Electro Mech Services", "Infratech"],
    "OEM": ["Engineering Works", "Auto Components", "Fabricators", "Precision Engineering", "Process Equipment",
            "Machine Tools", "Pneumatics", "Hydraulics", "Industries", "Forgings", "Engineering"],
}
SEGMENTS = [("Retail", 40.0), ("Wholesale", 30.0), ("Project", 12.0), ("OEM", 18.0)]
# entity suffix, PAN holder type, weight per segment
ENTITIES = {
    "Retail": [("", "P", 75.0), ("", "F", 10.0), (" LLP", "F", 5.0), (" Pvt Ltd", "C", 10.0)],
    "Wholesale": [("", "P", 35.0), ("", "F", 20.0), (" LLP", "F", 10.0), (" Pvt Ltd", "C", 35.0)],
    "Project": [(" Pvt Ltd", "C", 65.0), (" Ltd", "C", 10.0), (" LLP", "F", 10.0), ("", "F", 15.0)],
    "OEM": [(" Pvt Ltd", "C", 65.0), (" Ltd", "C", 12.0), (" LLP", "F", 8.0), ("", "F", 15.0)],
}
SALESPEOPLE = {"West": ["Rahul Kulkarni", "Sneha Patil", "Imran Shaikh"], "South": ["Vikram Nair"],
               "North": ["Anita Desai"]}
COLLECTORS = ["Pooja Deshpande", "Sanjay Jadhav", "Kavita Menon"]
BEHAVIOURS = ["prompt", "normal", "slow", "chronic"]
BEHAVIOUR_WEIGHTS = {"Retail": [35, 37, 20, 8], "Wholesale": [30, 45, 19, 6], "Project": [15, 40, 35, 10],
                     "OEM": [42, 45, 12, 1]}
CREDIT_DAYS = {"Retail": [(15, 50), (30, 50)], "Wholesale": [(30, 60), (45, 40)],
               "Project": [(45, 50), (60, 50)], "OEM": [(30, 20), (45, 50), (60, 30)]}
BASE_INVOICE = {"Retail": 14_000, "Wholesale": 42_000, "Project": 95_000, "OEM": 55_000}  # taxable value, rupees
INVOICES_PER_MONTH = {"Retail": 1.4, "Wholesale": 2.4, "Project": 0.9, "OEM": 2.8}
SEASON = {1: 1.05, 2: 1.1, 3: 1.35, 4: 0.9, 5: 0.95, 6: 0.9, 7: 0.9, 8: 1.0, 9: 1.0, 10: 0.85, 11: 0.9, 12: 1.05}
INVOICE_TEXT = ["Fasteners and hand tools", "Bearings and transmission parts", "Valves and pipe fittings",
                "Welding consumables", "Power tools", "Safety equipment", "Electrical consumables",
                "Pneumatic fittings", "Cutting tools and abrasives", "MS pipes and sections", "Lubricants",
                "Hydraulic hoses and fittings"]
# description, HSN, GST % before GST 2.0, GST % after, rate range (rupees), quantity range
CATALOG = [
    ("Hex bolt M12x50 HT 8.8 (box of 100)", "7318", 18, 18, (850, 2200), (5, 60)),
    ("Deep groove ball bearing 6205-2RS", "8482", 18, 18, (180, 420), (20, 300)),
    ('Ball valve 1" forged brass', "8481", 18, 18, (650, 1450), (5, 80)),
    ('MS seamless pipe 2" (6 m)', "7304", 18, 18, (3800, 6200), (5, 40)),
    ("Angle grinder 100 mm 850 W", "8467", 18, 18, (2900, 4600), (2, 20)),
    ("Welding electrode E6013 3.15 mm (5 kg)", "8311", 18, 18, (780, 1150), (10, 120)),
    ("Safety helmet ISI marked", "6506", 18, 18, (160, 320), (20, 300)),
    ("Leather hand gloves, industrial", "4203", 12, 5, (95, 240), (50, 500)),
    ("Drip irrigation lateral 16 mm (400 m)", "8424", 12, 5, (2100, 3400), (5, 50)),
    ("Cotton waste, white (25 kg bale)", "5202", 5, 5, (1400, 2200), (2, 40)),
]
CN_REASONS = ["Rate difference as per PO", "Goods returned: damaged in transit", "Quantity short received",
              "Quality rejection at customer's inspection", "Price revision on annual contract"]
CN_UNALLOCATED_REASONS = ["Quarterly turnover discount", "Rate difference as per PO", "Goods returned after payment",
                          "Freight reimbursement"]
CANCEL_REASONS = [("Wrong GSTIN of the buyer on the invoice; reissued", True),
                  ("Duplicate invoice raised for the same dispatch", False),
                  ("Rate error; reissued at the PO rate", True)]
BANKS = ["HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "BARB", "PUNB", "YESB", "CNRB", "IDIB"]
CHEQUE_BANKS = ["HDFC Bank", "ICICI Bank", "SBI", "Axis Bank", "Kotak Bank", "Bank of Baroda",
                "Bank of Maharashtra", "Canara Bank", "Cosmos Bank", "Saraswat Bank"]
BANK_CHARGES = [Decimal("11.80"), Decimal("17.70"), Decimal("23.60"), Decimal("29.50"), Decimal("59.00"),
                Decimal("118.00")]
TDS_SECTIONS = {"194Q": Decimal("0.001"), "194C": Decimal("0.02")}

KIND_ORDER = {"opening": 0, "invoice": 1, "credit_note": 2, "receipt": 3, "write_off": 4}


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass(eq=False)
class PlanCustomer:
    code: str
    name: str
    state: str
    segment: str
    region: str
    entity: str
    credit_days: int
    terms_kind: str
    size: float
    key_account: bool
    behaviour: str
    batch_days: tuple[int, ...]
    tds_section: str
    gstin: str
    pan: str
    email: str
    phone: str
    credit_limit: Decimal
    salesperson: str
    collector: str
    contact: tuple[str, str, str, str]
    model: object = None

    @property
    def terms(self) -> PaymentTerms:
        return PaymentTerms(self.terms_kind, self.credit_days)

    def data(self) -> dict:
        data = {"code": self.code, "name": self.name, "gstin": self.gstin, "pan": self.pan, "state": self.state,
                "email": self.email, "phone": self.phone, "credit_limit": str(self.credit_limit),
                "credit_days": str(self.credit_days), "salesperson": self.salesperson, "collector": self.collector,
                "segment": self.segment, "region": self.region}
        if self.terms_kind == END_OF_MONTH:
            data["terms"] = f"eom {self.credit_days}"
        return data


@dataclass(eq=False)
class PlanLine:
    description: str
    hsn: str
    quantity: Decimal
    rate: Decimal
    gst_rate: Decimal


@dataclass(eq=False)
class PlanDebit:
    """An invoice or a debit opening balance; ``open`` is what it still owes once the plan is booked."""

    kind: str
    cust: PlanCustomer
    date: date
    due: date
    total: Decimal
    taxable: Decimal = ZERO
    tax: Decimal = ZERO
    gst_rate: Decimal = ZERO
    lines: tuple[PlanLine, ...] = ()
    description: str = ""
    open: Decimal = ZERO
    credited_taxable: Decimal = ZERO
    cancelled_on: date | None = None
    cancel_reason: str = ""
    short_paid: bool = False
    last_paid: date | None = None
    number: str = ""
    seq: int = 0


@dataclass(eq=False)
class PlanCredit:
    """A receipt, credit note, write-off or credit opening balance and what it is applied to at posting."""

    kind: str
    cust: PlanCustomer
    date: date
    amount: Decimal
    taxable: Decimal = ZERO
    tax: Decimal = ZERO
    tds: Decimal = ZERO
    charges: Decimal = ZERO
    mode: str = ""
    reference: str = ""
    description: str = ""
    allocations: list[tuple[PlanDebit, Decimal]] = field(default_factory=list)
    number: str = ""
    seq: int = 0


@dataclass(eq=False)
class PlanAllocation:
    """On-account money (or an unallocated credit) applied to a debit later, with ``allocation_create``."""

    date: date
    credit: PlanCredit
    debit: PlanDebit
    amount: Decimal


@dataclass
class DemoPlan:
    seed: int
    today: date
    start: date
    customers: list[PlanCustomer]
    debits: list[PlanDebit]
    credits: list[PlanCredit]
    later: list[PlanAllocation]

    @property
    def cancellations(self) -> list[PlanDebit]:
        return [d for d in self.debits if d.cancelled_on]

    @property
    def steps(self) -> int:
        """Units of work for a progress bar: customers, documents, cancellations, allocations."""
        return len(self.customers) + len(self.debits) + len(self.credits) + len(self.cancellations) + len(self.later)


def _rupees(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(ONE, ROUND_HALF_UP)


def _paise(value: Decimal) -> Decimal:
    return value.quantize(PAISA, ROUND_HALF_UP)


def _fy(d: date) -> str:
    year = d.year if d.month >= 4 else d.year - 1
    return f"{year % 100:02d}-{(year + 1) % 100:02d}"


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    y, m = _add_months(year, month, 1)
    return date(y, m, 1) - timedelta(days=1)


def _weekday(d: date) -> date:
    """Sundays move to Monday (banks and the billing desk are closed)."""
    return d + timedelta(days=1) if d.weekday() == 6 else d


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class _Planner:
    def __init__(self, *, customers: int, seed: int, today: date):
        self.rng = random.Random(seed)
        self.n_customers = customers
        self.seed = seed
        self.today = today
        y, m = _add_months(today.year, today.month, -11)
        self.start = date(y, m, 1)
        self.months = [_add_months(y, m, i) for i in range(12)]
        self.customers: list[PlanCustomer] = []
        self.debits: list[PlanDebit] = []
        self.credits: list[PlanCredit] = []
        self.later: list[PlanAllocation] = []
        self.seq = 0
        self.pan_seen: set[str] = {COMPANY_PAN}

    # helpers ---------------------------------------------------------------------------------

    def pick(self, weighted: Sequence[tuple[object, float]]):
        items = [w[0] for w in weighted]
        weights = [w[-1] for w in weighted]
        return self.rng.choices(items, weights=weights)[0]

    def poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    # customers -------------------------------------------------------------------------------

    def pan(self, holder: str, initial: str) -> str:
        while True:
            head = "A" + self.rng.choice("ABCDEFGHJKLMNPR") + self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            pan = f"{head}{holder}{initial}{self.rng.randint(1000, 9999)}{self.rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
            if pan not in self.pan_seen:
                self.pan_seen.add(pan)
                return pan

    def name(self, state: str, segment: str, suffix: str, holder: str, names: set[str]) -> tuple[str, str]:
        """A trade name and the surname behind it (the PAN's fifth letter for a proprietor)."""
        rng = self.rng
        for _ in range(50):
            surname = rng.choice(SURNAMES[state])
            trade = rng.choice(TRADES[segment])
            style = rng.random()
            if segment in ("Retail", "Wholesale") and style < 0.35:
                deity = rng.choice(DEITIES)
                prefix = "" if deity.startswith("Om") else rng.choice(DEITY_PREFIX) + " "
                base = f"{prefix}{deity} {trade}"
            elif style < 0.6:
                base = f"{surname} {trade}"
            elif style < 0.85:
                place = rng.choice(PLACES[state] + COMMON_PLACES)
                base = f"{place} {trade}"
            elif holder != "C":
                base = f"{surname} {rng.choice(['& Sons', 'Brothers', '& Co'])}"
                if segment in ("Project", "OEM"):
                    base = f"{surname} {trade}"
            else:
                initials = "".join(rng.sample("ABDGHJKMNPRSV", 2))
                base = f"{initials[0]}{initials[1]} {trade}"
            name = base + suffix
            if name not in names:
                names.add(name)
                return name, surname
        name = f"{base} ({len(names)}){suffix}"  # pragma: no cover - word lists are ample
        names.add(name)
        return name, surname

    def plan_customers(self) -> None:
        rng = self.rng
        names: set[str] = set()
        for n in range(1, self.n_customers + 1):
            state = self.pick(STATES)
            segment = self.pick(SEGMENTS)
            region = REGION[state]
            suffix, holder, _ = rng.choices(ENTITIES[segment], weights=[e[2] for e in ENTITIES[segment]])[0]
            name, surname = self.name(state, segment, suffix, holder, names)
            initial = surname[0] if holder == "P" else name.removeprefix("Shree ").removeprefix("Shri ")[0]
            if not initial.isalpha():
                initial = surname[0]
            pan = self.pan(holder, initial.upper())
            registered = holder != "P" or rng.random() < (0.75 if segment == "Retail" else 0.95)
            gstin = make_gstin(state, pan, "2" if rng.random() < 0.05 else "1") if registered else ""
            credit_days = self.pick(CREDIT_DAYS[segment])
            key = segment != "Retail" and rng.random() < 0.08
            size = rng.lognormvariate(0, 0.7) * (rng.uniform(3, 7) if key else 1.0)
            behaviour = rng.choices(BEHAVIOURS, weights=BEHAVIOUR_WEIGHTS[segment])[0]
            if key and behaviour in ("slow", "chronic"):  # big accounts pay, if not always on time
                behaviour = "slow" if rng.random() < 0.3 else "normal"
            batch = rng.random() < (0.5 if holder == "C" else 0.12)
            batch_days = tuple(sorted(rng.sample([5, 7, 10, 15, 20, 25], rng.choice([1, 2])))) if batch else ()
            tds = ""
            if holder == "C" and (key or size > 1.3 or rng.random() < 0.25):
                tds = "194C" if segment == "Project" and rng.random() < 0.6 else "194Q"
            words = name.removesuffix(suffix).split()
            while len(words) > 2 and len(_slug("".join(words))) > 24:
                words.pop()
            slug = _slug("".join(words))
            if holder == "C" or suffix:
                domain = f"{slug}.{rng.choice(['com', 'in', 'co.in'])}"
                email = f"{rng.choice(['accounts', 'finance', 'ap', 'payables'])}@{domain}"
            else:
                domain = rng.choice(["gmail.com", "gmail.com", "gmail.com", "yahoo.co.in", "rediffmail.com"])
                email = f"{slug}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{domain}"
            phone = f"+91 {rng.choice('6789')}{rng.randint(1000, 9999)} {rng.randint(10000, 99999)}"
            monthly = BASE_INVOICE[segment] * size * INVOICES_PER_MONTH[segment] * 1.15
            limit = max(50_000, math.ceil(monthly * (credit_days / 30 + 1) / 50_000) * 50_000)
            if rng.random() < 0.15:
                limit = max(50_000, limit // 2 // 50_000 * 50_000)  # some limits are set too tight
            salesperson = rng.choice(SALESPEOPLE[region])
            collector = (COLLECTORS[rng.randint(0, 1)] if state == "27" else COLLECTORS[2])
            first = rng.choice(FIRST_NAMES)
            role = rng.choice(["Accounts", "Accounts", "Owner", "Purchase", "Finance"])
            webmail = domain in ("gmail.com", "yahoo.co.in", "rediffmail.com")
            contact_email = email if webmail else f"{first.lower()}.{surname.lower()}@{domain}"
            contact_phone = f"+91 {rng.choice('6789')}{rng.randint(1000, 9999)} {rng.randint(10000, 99999)}"
            terms_kind = END_OF_MONTH if segment == "OEM" and rng.random() < 0.15 else NET
            self.customers.append(PlanCustomer(
                code=f"C{n:04d}", name=name, state=state, segment=segment, region=region, entity=holder,
                credit_days=credit_days, terms_kind=terms_kind, size=size, key_account=key, behaviour=behaviour,
                batch_days=batch_days, tds_section=tds, gstin=gstin, pan=pan, email=email, phone=phone,
                credit_limit=Decimal(limit), salesperson=salesperson, collector=collector,
                contact=(f"{first} {surname}", role, contact_email, contact_phone)))
        # a handful of chronic late payers, whatever the draw
        chronic = [c for c in self.customers if c.behaviour == "chronic"]
        want = min(max(3, len(self.customers) // 40), len(self.customers) // 4)
        candidates = [c for c in self.customers if c.behaviour == "slow" and not c.key_account]
        while len(chronic) < want and candidates:
            c = candidates.pop(rng.randrange(len(candidates)))
            c.behaviour = "chronic"
            chronic.append(c)

    # debits ----------------------------------------------------------------------------------

    def gst_rate(self, on: date) -> Decimal:
        if on < GST_REFORM:
            return Decimal(self.pick([(18, 75.0), (12, 15.0), (5, 10.0)]))
        return Decimal(self.pick([(18, 82.0), (5, 18.0)]))

    def invoice(self, cust: PlanCustomer, on: date) -> PlanDebit:
        rng = self.rng
        due = cust.terms.due_date(on)
        if rng.random() < 0.04:  # an itemised invoice: the lines make the total
            lines, taxable, tax = [], ZERO, ZERO
            intra = is_intra_state(COMPANY_STATE, cust.state)
            for item in rng.sample(CATALOG, rng.randint(2, 4)):
                desc, hsn, before, after, (low, high), (qlow, qhigh) = item
                rate = Decimal(rng.randint(low, high))
                qty = Decimal(max(1, round(rng.randint(qlow, qhigh) * min(cust.size, 4))))
                gst = Decimal(before if on < GST_REFORM else after)
                lines.append(PlanLine(desc, hsn, qty, rate, gst))
                value = _paise(qty * rate)
                taxable += value
                tax += tax_on(value, gst, intra, "INR").total
            return PlanDebit("invoice", cust, on, due, taxable + tax, taxable, tax, lines=tuple(lines),
                             description="Itemised supply", seq=self.next_seq())
        taxable = _rupees(max(500.0, BASE_INVOICE[cust.segment] * cust.size * rng.lognormvariate(0, 0.6)))
        if taxable > 20_000:
            taxable = _rupees(taxable / 10) * 10
        rate = self.gst_rate(on)
        tax = _paise(taxable * rate / 100)
        total = _rupees(taxable + tax)  # invoices are rounded off to the rupee
        return PlanDebit("invoice", cust, on, due, total, taxable, tax, gst_rate=rate,
                         description=rng.choice(INVOICE_TEXT), seq=self.next_seq())

    def plan_invoices(self) -> None:
        rng = self.rng
        for i, (y, m) in enumerate(self.months):
            last = min(_month_end(y, m), self.today)
            trend = 0.92 + 0.015 * i
            for cust in self.customers:
                lam = INVOICES_PER_MONTH[cust.segment] * SEASON[m] * trend * (1.8 if cust.key_account else 1.0)
                lam *= (last.day / _month_end(y, m).day)
                for _ in range(self.poisson(lam)):
                    on = date(y, m, rng.randint(1, last.day))
                    if on.weekday() == 6:
                        on = on - timedelta(days=1) if on.day > 1 else on + timedelta(days=1)
                    self.debits.append(self.invoice(cust, on))
        self.debits.sort(key=lambda d: (d.date, d.seq))

    def plan_openings(self) -> None:
        rng = self.rng
        on = self.start - timedelta(days=1)
        for cust in self.customers:
            if rng.random() < (0.35 if cust.behaviour == "chronic" else 0.07):
                amount = _rupees(BASE_INVOICE[cust.segment] * cust.size * rng.uniform(0.5, 3.0))
                # a due date cannot precede the document date: old bills are due on the opening date
                due = on if cust.behaviour == "chronic" else on + self.days(0, cust.credit_days)
                self.debits.append(PlanDebit("opening", cust, on, due, amount,
                                             description="Balance brought forward", seq=self.next_seq()))
        # one customer starts the year with an advance in hand
        holders = [c for c in self.customers if c.segment == "Project"] or self.customers
        if len(self.customers) >= 10:
            cust = rng.choice(holders)
            self.credits.append(PlanCredit("opening", cust, on, Decimal(rng.randint(5, 30) * 5000),
                                           description="Advance brought forward", seq=self.next_seq()))

    # corrections and credits -----------------------------------------------------------------

    def plan_cancellations(self) -> None:
        rng = self.rng
        window = [d for d in self.debits if d.kind == "invoice" and not d.lines
                  and self.start + timedelta(days=45) <= d.date <= self.today - timedelta(days=30)]
        if not window:
            return
        for reason, reissue in CANCEL_REASONS[: min(3, max(1, len(window) // 50))]:
            d = window.pop(rng.randrange(len(window)))
            d.cancelled_on = _weekday(d.date + self.days(1, 4))
            d.cancel_reason = reason
            if reissue:
                again = PlanDebit("invoice", d.cust, d.cancelled_on, d.cust.terms.due_date(d.cancelled_on), d.total,
                                  d.taxable, d.tax, gst_rate=d.gst_rate, description=d.description,
                                  seq=self.next_seq())
                self.debits.append(again)
        self.debits.sort(key=lambda d: (d.date, d.seq))

    def live(self) -> list[PlanDebit]:
        return [d for d in self.debits if not d.cancelled_on]

    def plan_credit_notes(self) -> None:
        rng = self.rng
        for d in self.debits:
            d.open = ZERO if d.cancelled_on else d.total
        by_customer: dict[str, list[PlanDebit]] = defaultdict(list)
        for d in self.live():
            by_customer[d.cust.code].append(d)
        for d in self.live():
            if d.kind != "invoice" or d.lines or rng.random() >= 0.025:
                continue
            on = _weekday(d.date + self.days(3, 30))
            if on > self.today:
                continue
            taxable = _rupees(d.taxable * Decimal(str(rng.uniform(0.04, 0.3))))
            tax = _paise(taxable * d.gst_rate / 100)
            amount = _rupees(taxable + tax)
            if rng.random() < 0.65:
                cn = PlanCredit("credit_note", d.cust, on, amount, taxable, tax, description=rng.choice(CN_REASONS),
                                allocations=[(d, amount)], seq=self.next_seq())
                d.open -= amount
                d.credited_taxable += taxable
                self.credits.append(cn)
                continue
            cn = PlanCredit("credit_note", d.cust, on, amount, taxable, tax,
                            description=rng.choice(CN_UNALLOCATED_REASONS), seq=self.next_seq())
            self.credits.append(cn)
            if rng.random() < 0.5:  # adjusted later against a following bill
                for later in by_customer[d.cust.code]:
                    if later.date >= on and later.open >= amount and later.kind == "invoice":
                        when = _weekday(later.date + self.days(0, 10))
                        if when <= self.today:
                            self.later.append(PlanAllocation(when, cn, later, amount))
                            later.open -= amount
                        break

    def plan_advances(self) -> None:
        """Advances against purchase orders: applied to the invoice when it comes, or still waiting."""
        rng = self.rng
        takers = [c for c in self.customers if c.segment in ("Project", "OEM")] or self.customers
        by_customer: dict[str, list[PlanDebit]] = defaultdict(list)
        for d in self.live():
            if d.kind == "invoice" and d.date >= self.start + timedelta(days=20) and d.open >= 30_000:
                by_customer[d.cust.code].append(d)
        for _ in range(max(2, len(self.customers) // 30)):
            cust = rng.choice(takers)
            if not by_customer[cust.code]:
                continue
            d = rng.choice(by_customer[cust.code])
            amount = max(Decimal(10_000), (d.open * Decimal(str(rng.uniform(0.2, 0.5))) / 10_000).to_integral() * 10_000)
            if amount >= d.open:
                continue
            on = max(self.start, _weekday(d.date - self.days(5, 25)))
            adv = self.receipt(cust, on, amount, description=f"Advance against PO {rng.randint(4500000000, 4599999999)}")
            when = _weekday(d.date + self.days(0, 7))
            if when <= self.today:
                self.later.append(PlanAllocation(when, adv, d, amount))
                d.open -= amount
        for _ in range(max(2, len(self.customers) // 60)):
            cust = rng.choice(takers)
            on = _weekday(self.today - self.days(1, 25))
            if on > self.today:
                on -= timedelta(days=2)
            amount = _rupees(BASE_INVOICE[cust.segment] * cust.size * rng.uniform(0.3, 1.0) / 1000) * 1000
            self.receipt(cust, on, max(amount, Decimal(10_000)),
                         description=f"Advance against PO {rng.randint(4500000000, 4599999999)}")
        opening_credit = [c for c in self.credits if c.kind == "opening"]
        for adv in opening_credit:
            for d in self.live():
                if d.cust is adv.cust and d.kind == "invoice" and d.open > 0:
                    amount, when = min(adv.amount, d.open), _weekday(d.date + self.days(0, 5))
                    if when <= self.today:
                        self.later.append(PlanAllocation(when, adv, d, amount))
                        d.open -= amount
                    break

    def receipt(self, cust: PlanCustomer, on: date, amount: Decimal, *, tds: Decimal = ZERO, charges: Decimal = ZERO,
                description: str = "", allocations: list | None = None) -> PlanCredit:
        mode, reference = self.payment_mode(cust, on, amount)
        credit = PlanCredit("receipt", cust, on, amount, tds=tds, charges=charges, mode=mode, reference=reference,
                            description=description, allocations=allocations or [], seq=self.next_seq())
        self.credits.append(credit)
        return credit

    def payment_mode(self, cust: PlanCustomer, on: date, amount: Decimal) -> tuple[str, str]:
        rng = self.rng
        if amount >= 200_000:
            mode = self.pick([("rtgs", 60.0), ("neft", 40.0)])
        elif cust.segment == "Retail":
            mode = self.pick([("upi", 35.0 if amount <= 100_000 else 0.0), ("cheque", 30.0), ("neft", 25.0),
                              ("imps", 10.0)])
        else:
            mode = self.pick([("neft", 60.0), ("cheque", 20.0), ("imps", 15.0), ("rtgs", 5.0 if amount > 50_000 else 0.0)])
        bank = rng.choice(BANKS)
        if mode == "neft":
            ref = f"{bank}N{on:%y}{on.timetuple().tm_yday:03d}{rng.randint(0, 999999):06d}"
        elif mode == "rtgs":
            ref = f"{bank}R5{on:%Y%m%d}{rng.randint(0, 99999999):08d}"
        elif mode in ("imps", "upi"):
            ref = f"{on:%y}{on.timetuple().tm_yday:03d}{rng.randint(0, 9999999):07d}"
        else:
            ref = f"CHQ {rng.randint(100, 999999):06d} {rng.choice(CHEQUE_BANKS)}"
        return mode, ref

    # receipts --------------------------------------------------------------------------------

    def delay(self, behaviour: str) -> int:
        rng = self.rng
        low, high, mode = {"prompt": (-10, 4, -2), "normal": (-6, 24, 3), "slow": (0, 55, 15),
                           "chronic": (30, 200, 80)}[behaviour]
        return round(rng.triangular(low, high, mode))

    def pay_day(self, cust: PlanCustomer, on: date, earliest: date) -> date:
        on = max(on, earliest)
        if cust.batch_days:  # the customer's payment run: the next run day on or after ``on``
            for months in range(3):
                y, m = _add_months(on.year, on.month, months)
                for day in cust.batch_days:
                    run = date(y, m, day)
                    if run >= on:
                        return _weekday(run)
        return _weekday(on)

    def plan_receipts(self) -> None:
        rng = self.rng
        never = {"prompt": 0.003, "normal": 0.01, "slow": 0.035, "chronic": 0.3}
        partial = {"prompt": 0.02, "normal": 0.06, "slow": 0.12, "chronic": 0.3}
        rest_never = {"prompt": 0.05, "normal": 0.08, "slow": 0.25, "chronic": 0.55}
        payments: dict[tuple[str, date], list[tuple[PlanDebit, Decimal, Decimal]]] = {}
        customers: dict[str, PlanCustomer] = {}

        def pay(d: PlanDebit, on: date, amount: Decimal, tds: Decimal = ZERO) -> None:
            payments.setdefault((d.cust.code, on), []).append((d, amount, tds))
            customers[d.cust.code] = d.cust
            d.open -= amount
            d.last_paid = on

        for d in self.live():
            if d.open <= 0:
                continue
            beh = d.cust.behaviour
            if rng.random() < never[beh]:
                continue
            first_day = self.pay_day(d.cust, d.due + timedelta(days=self.delay(beh)), d.date + timedelta(days=2))
            if first_day > self.today:
                continue
            tds = ZERO
            if d.kind == "invoice" and d.cust.tds_section:
                tds = _rupees((d.taxable - d.credited_taxable) * TDS_SECTIONS[d.cust.tds_section])
            if rng.random() < partial[beh] and d.open > 5_000:
                part = (d.open * Decimal(str(rng.uniform(0.3, 0.7))) / 1000).to_integral() * 1000
                if tds < part < d.open:
                    pay(d, first_day, part, tds)
                    if rng.random() < rest_never[beh]:
                        continue
                    second = self.pay_day(d.cust, first_day + self.days(15, 120 if beh == "chronic" else 60),
                                          first_day + timedelta(days=1))
                    if second <= self.today:
                        pay(d, second, d.open)
                    continue
            amount = d.open
            if rng.random() < 0.012 and amount > 10_000:  # short payment: a small difference left behind
                amount -= min(Decimal(rng.randint(2, 500)), amount / 20).to_integral()
                d.short_paid = True
            pay(d, first_day, amount, tds)

        lumps = [k for k, v in payments.items() if not customers[k[0]].batch_days and len(v) <= 3]
        lump_keys = {lumps[i] for i in sorted(rng.sample(range(len(lumps)), min(len(lumps), max(3, len(payments) // 300))))}
        for key in sorted(payments, key=lambda k: (k[1], k[0])):
            cust, on = customers[key[0]], key[1]
            items = payments[key]
            total = sum((a for _, a, _ in items), ZERO)
            tds = sum((t for _, _, t in items), ZERO)
            charges = ZERO
            if rng.random() < 0.05 and total - tds > 5_000:
                charges = rng.choice(BANK_CHARGES)
            several = f"{len(items)} invoices" if len(items) > 1 else ""
            if key in lump_keys:  # money without a remittance advice: on account, matched later
                credit = self.receipt(cust, on, total - tds - charges, tds=tds, charges=charges,
                                      description="On account: remittance advice awaited")
                for d, amount, _ in items:
                    when = _weekday(on + self.days(2, 20))
                    if when <= self.today:
                        self.later.append(PlanAllocation(when, credit, d, amount))
                    else:
                        d.open += amount
                continue
            desc = f"Payment against {several}" if several else ""
            if tds:
                desc = (desc + "; " if desc else "") + f"TDS u/s {cust.tds_section}"
            self.receipt(cust, on, total - tds - charges, tds=tds, charges=charges, description=desc,
                         allocations=[(d, a) for d, a, _ in items])

    def plan_write_offs(self) -> None:
        rng = self.rng
        shorts = [d for d in self.live() if d.short_paid and 0 < d.open <= 500 and d.last_paid]
        if shorts:
            d = rng.choice(shorts)
            on = _weekday(d.last_paid + self.days(20, 45))
            if on <= self.today:
                self.credits.append(PlanCredit("write_off", d.cust, on, d.open, allocations=[(d, d.open)],
                                               description="Short payment written off", seq=self.next_seq()))
                d.open = ZERO
        cutoff = self.today - timedelta(days=180)
        stale: dict[str, list[PlanDebit]] = defaultdict(list)
        for d in self.live():
            if d.cust.behaviour == "chronic" and d.open > 0 and d.due < cutoff:
                stale[d.cust.code].append(d)
        if not stale:
            return
        code = max(stale, key=lambda c: (sum((d.open for d in stale[c]), ZERO), c))
        items = stale[code][:3]
        on = _weekday(self.today - self.days(10, 30))
        total = sum((d.open for d in items), ZERO)
        self.credits.append(PlanCredit("write_off", items[0].cust, on, total, allocations=[(d, d.open) for d in items],
                                       description="Bad debt: customer has closed the business",
                                       seq=self.next_seq()))
        for d in items:
            d.open = ZERO

    def number(self) -> None:
        """Document numbers in date order within each fiscal year, as a billing system gives them."""
        counters: dict[tuple[str, str], int] = defaultdict(int)
        prefix = {"invoice": ("SIS", 5), "receipt": ("RCT", 5), "credit_note": ("CN", 4), "write_off": ("WO", 3)}
        docs = sorted([*self.debits, *self.credits], key=lambda x: (x.date, KIND_ORDER[x.kind], x.seq))
        for doc in docs:
            if doc.kind == "opening":
                doc.number = f"OB/{_fy(doc.date)}/{doc.cust.code}" + ("/C" if isinstance(doc, PlanCredit) else "")
                continue
            head, width = prefix[doc.kind]
            counters[(doc.kind, _fy(doc.date))] += 1
            doc.number = f"{head}/{_fy(doc.date)}/{counters[(doc.kind, _fy(doc.date))]:0{width}d}"

    def plan(self) -> DemoPlan:
        self.plan_customers()
        self.plan_openings()
        self.plan_invoices()
        self.plan_cancellations()
        self.plan_credit_notes()
        self.plan_advances()
        self.plan_receipts()
        self.plan_write_offs()
        self.number()
        self.debits.sort(key=lambda d: (d.date, d.seq))
        self.credits.sort(key=lambda c: (c.date, c.seq))
        self.later.sort(key=lambda a: (a.date, a.credit.seq, a.debit.seq))
        return DemoPlan(self.seed, self.today, self.start, self.customers, self.debits, self.credits, self.later)


def plan_demo(*, customers: int = 300, seed: int = 7, today: date) -> DemoPlan:
    """Draw the demo year ending ``today`` (nothing touches the database)."""
    if customers < 1:
        raise ValueError("the demo needs at least one customer")
    return _Planner(customers=customers, seed=seed, today=today).plan()


# ---------------------------------------------------------------------------------------------
# booking the plan


def _draft(doc: PlanDebit | PlanCredit):
    from dues.ledger.services import DocumentDraft, LineDraft

    customer = doc.cust.model
    if isinstance(doc, PlanDebit):
        if doc.kind == "opening":
            return DocumentDraft(kind="opening", number=doc.number, customer=customer, date=doc.date,
                                 amount=doc.total, due_date=doc.due, description=doc.description)
        if doc.lines:
            return DocumentDraft(kind="invoice", number=doc.number, customer=customer, date=doc.date, amount=ZERO,
                                 due_date=doc.due, description=doc.description,
                                 lines=[LineDraft(ln.description, ln.rate, ln.quantity, ln.gst_rate, ln.hsn)
                                        for ln in doc.lines])
        return DocumentDraft(kind="invoice", number=doc.number, customer=customer, date=doc.date, amount=doc.total,
                             due_date=doc.due, taxable_value=doc.taxable, tax=doc.tax, description=doc.description)
    allocations = [(d.number, amount) for d, amount in doc.allocations]
    if doc.kind == "opening":
        return DocumentDraft(kind="opening", number=doc.number, customer=customer, date=doc.date, amount=doc.amount,
                             opening_side="C", description=doc.description)
    if doc.kind == "credit_note":
        return DocumentDraft(kind="credit_note", number=doc.number, customer=customer, date=doc.date,
                             amount=doc.amount, taxable_value=doc.taxable, tax=doc.tax, description=doc.description,
                             allocations=allocations)
    if doc.kind == "write_off":
        return DocumentDraft(kind="write_off", number=doc.number, customer=customer, date=doc.date, amount=doc.amount,
                             description=doc.description, allocations=allocations)
    return DocumentDraft(kind="receipt", number=doc.number, customer=customer, date=doc.date, amount=doc.amount,
                         tds=doc.tds, charges=doc.charges, mode=doc.mode, reference=doc.reference,
                         description=doc.description, allocations=allocations)


def build_demo(plan: DemoPlan, *, actor: str = "demo",
               advance: Callable[[int, str], None] | None = None):
    """Book ``plan`` into the (migrated, empty) database; returns the company.

    ``advance(n, what)`` is called as work is done (``plan.steps`` units in all).
    """
    from django.contrib.auth import get_user_model

    from dues.companies.services import company_init
    from dues.customers.services import contact_add, customer_create
    from dues.ledger.models import Document, OpenItem
    from dues.ledger.services import allocation_create, document_cancel, documents_post
    from dues.users.services import user_add

    from .bank import import_demo_statements

    step = advance or (lambda n, what: None)
    company, _ = company_init(name=COMPANY_NAME, gstin=COMPANY_GSTIN, state_code=COMPANY_STATE, currency="INR",
                              fy_start=(4, 1), locale="en_IN", actor=actor)
    for cust in plan.customers:
        cust.model = customer_create(company=company, data=cust.data(), actor=actor)
        name, role, email, phone = cust.contact
        contact_add(customer=cust.model, name=name, role=role, email=email, phone=phone, actor=actor)
        step(1, "customers")

    months: dict[tuple[int, int], list] = defaultdict(list)
    for doc in [*plan.debits, *plan.credits]:
        months[(doc.date.year, doc.date.month)].append(("post", doc))
    for d in plan.cancellations:
        months[(d.cancelled_on.year, d.cancelled_on.month)].append(("cancel", d))
    for a in plan.later:
        months[(a.date.year, a.date.month)].append(("allocate", a))

    def item(kind: str, number: str, side: str) -> OpenItem:
        document = Document.objects.get(company=company, kind=kind, number=number)
        return OpenItem.objects.get(document=document, side=side, reversal_of__isnull=True)

    for (y, m) in sorted(months):
        work = months[(y, m)]
        label = f"{date(y, m, 1):%b %Y}"
        posts = sorted((doc for what, doc in work if what == "post"),
                       key=lambda doc: (doc.date, KIND_ORDER[doc.kind], doc.number))
        if posts:
            documents_post(company=company, drafts=[_draft(doc) for doc in posts], actor=actor)
            step(len(posts), label)
        rest = sorted(((x.cancelled_on if what == "cancel" else x.date, what, x) for what, x in work if what != "post"),
                      key=lambda t: (t[0], t[1]))
        for when, what, x in rest:
            if what == "cancel":
                document = Document.objects.get(company=company, kind=x.kind, number=x.number)
                document_cancel(document=document, on=when, reason=x.cancel_reason, actor=actor)
            else:
                allocation_create(credit_item=item(x.credit.kind, x.credit.number, "C"),
                                  debit_item=item(x.debit.kind, x.debit.number, "D"), amount=x.amount, on=when,
                                  actor=actor, reason="matched on-account money")
            step(1, label)

    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USER).exists():
        user_model.objects.create_superuser(ADMIN_USER, "admin@sahyadri-industrial.in", ADMIN_PASSWORD)
    for username, role, person in DEMO_USERS:
        if not user_model.objects.filter(username=username).exists():
            # the demo's one published password is shorter than the password rules allow: the demo only
            user_add(username=username, role=role, password=ADMIN_PASSWORD, person_name=person, actor=actor,
                     password_rules=False)
    import_demo_statements(company, plan.today, actor=actor, seed=plan.seed)
    from .billing import build_demo_billing

    build_demo_billing(company, plan.today, actor=actor, seed=plan.seed)
    return company


# ---------------------------------------------------------------------------------------------
# the summary


@dataclass
class DemoSummary:
    customers: int
    contacts: int
    documents: list[tuple[str, int, Decimal]]  # kind, count, amount
    cancelled: int
    allocations: int
    audit_records: int
    ageing: object  # dues.reporting.selectors.AgeingReport
    outstanding: Decimal
    overdue: Decimal
    unapplied: Decimal
    banks: list = field(default_factory=list)  # dues.reconciliation.bank.BankReconciliation per account, as of today


def demo_summary(company, today: date) -> DemoSummary:
    from dues.audit.models import AuditRecord
    from dues.core.ageing import NOT_DUE
    from dues.customers.models import Contact, Customer
    from dues.ledger.models import Allocation, Document
    from dues.reporting.selectors import ageing

    counts: dict[str, list] = {kind: [0, ZERO] for kind, _ in Document.KINDS}
    cancelled = 0
    for kind, amount, status in Document.objects.filter(company=company).values_list("kind", "amount", "status"):
        counts[kind][0] += 1
        counts[kind][1] += Decimal(amount)
        cancelled += status == Document.CANCELLED
    from dues.reconciliation.bank import bank_reconciliations

    report = ageing(company=company, as_of=today)
    totals = report.totals
    overdue = sum((v for k, v in totals.buckets.items() if k != NOT_DUE), ZERO)
    return DemoSummary(
        customers=Customer.objects.filter(company=company).count(),
        contacts=Contact.objects.filter(customer__company=company).count(),
        documents=[(kind, n, _paise(amount)) for kind, (n, amount) in counts.items() if n],
        cancelled=cancelled, allocations=Allocation.objects.filter(company=company).count(),
        audit_records=AuditRecord.objects.count(), ageing=report, outstanding=_paise(totals.total),
        overdue=_paise(overdue), unapplied=_paise(totals.unapplied),
        banks=bank_reconciliations(company=company, as_of=today))


# ---------------------------------------------------------------------------------------------
# a fresh database


def prepare_database(*, reset: bool) -> str:
    """Make the configured database empty and migrated; returns a description of it.

    SQLite: the file is deleted and created again, unless it holds a company other than the demo's
    (then ``reset`` must be given). Other databases cannot be emptied (the audit log is
    append-only), so ``reset`` must be given and the database must hold no dues data yet.
    """
    from pathlib import Path

    from django.db import connection

    from dues.cli.books import migrate
    from dues.core.errors import DuesError

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = Path(settings["NAME"])
        if path.exists() and not reset:
            owner = _sqlite_owner(path)
            if owner is None:
                raise DuesError(f"{path} is not a dues database: pass --reset to delete it, or give another --db")
            if owner not in ("", COMPANY_NAME):
                raise DuesError(f"{path} holds the books of {owner!r}, not the demo company: pass --reset to "
                                "delete it, or give another --db")
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        migrate()
        return f"sqlite:///{path}"
    where = f"{connection.vendor} database {settings.get('NAME')!r} on {settings.get('HOST') or 'localhost'}"
    if not reset:
        raise DuesError(f"the demo builds a fresh database and will not touch the {where} without --reset "
                        "(which needs an empty database: the audit log cannot be emptied)")
    migrate()
    from dues.audit.models import AuditRecord
    from dues.companies.models import Company

    if Company.objects.exists() or AuditRecord.objects.exists():
        raise DuesError(f"the {where} already holds dues data; the audit log is append-only, so it cannot be "
                        "emptied: create an empty database (e.g. createdb dues_demo) and run the demo on it")
    return where


def _sqlite_owner(path) -> str | None:
    """Whose books an existing SQLite file holds: a company name, '' for none, None if not a dues database."""
    import sqlite3
    from contextlib import closing

    if path.stat().st_size == 0:
        return ""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT name FROM companies_company ORDER BY id LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else ""
