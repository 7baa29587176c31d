"""How a payee is paid by bank transfer in each country: the methods and their fields.

Pure: no IO. Each field has a label, an example and a validator that returns the value in its
compact form (what the bank needs) or raises `Invalid` with a message that names what is wrong.
National identifiers and their check digits come from python-stdnum, IBAN and BIC from
schwifty; the few rules neither holds (the Mexican CLABE, Banco do Brasil's check digits) are
written here with their source.

A method's field names are its API body keys and form input names; `iban` and `bic` keep the
names of the first version of the form and API.

Owns no table and makes no external call: `service.set_bank_account` stores what `validate`
returns. It must never show a secret field in full except in `instruction`, which is what
finance copies into its bank; everywhere else (`shown`, `last4`) a secret is its last four.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.ar import cbu
from stdnum.br import cnpj, cpf
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.us import rtn

from service.core.i18n import N_, gettext

MASK = "••••"
# What a payee types in one field of bank details, at most (the longest is an e-mail PIX key).
MAX_LENGTH = 140


class Invalid(ValueError):
    """A field's value is refused; the message is shown next to the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # marked with N_, translated where shown
    example: str
    check: Callable[[str], str]
    choices: tuple[tuple[str, str], ...] = ()  # (value, label marked with N_)
    # Account numbers, keys and personal identifiers: shown again only by their last four.
    secret: bool = False
    optional: bool = False
    show: Callable[[str], str] = str  # the full value as a bank expects to read it


@dataclass(frozen=True)
class Method:
    code: str
    label: str
    fields: tuple[Field, ...]
    # The field whose last four characters name the account ("the account ending in 5678").
    account_field: str
    # Rules between fields (the check digits of a branch that depend on the bank).
    check: Callable[[dict[str, str]], dict[str, str]] = field(default=lambda details: {})


def tail(value: str) -> str:
    """The last four characters of an account number or key, its dashes left out."""
    return re.sub(r"[\s\-]", "", value)[-4:]


def mask(value: str) -> str:
    """What is shown of a secret: "•••• 5678"."""
    return f"{MASK} {tail(value)}" if value else ""


# --- validators ----------------------------------------------------------------------------


def _digits(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value)


def _stdnum(module: object, name: str, example: str) -> Callable[[str], str]:
    """A validator from a python-stdnum module, its errors said in the payee's words."""
    validate: Callable[[str], str] = module.validate  # type: ignore[attr-defined]

    def check(value: str) -> str:
        try:
            return validate(value)
        except InvalidChecksum:
            raise Invalid(
                gettext("This is not a valid %(name)s: the check digit does not match.")
                % {"name": gettext(name)}
            ) from None
        except InvalidLength:
            raise Invalid(
                gettext("This is not a valid %(name)s: it has too few or too many digits.")
                % {"name": gettext(name)}
            ) from None
        except ValidationError:
            raise Invalid(_looks_like(name, example)) from None

    return check


def _looks_like(name: str, example: str) -> str:
    """`name` is marked with N_ where it is a word to translate."""
    return gettext("This is not a valid %(name)s: it should look like %(example)s.") % {
        "name": gettext(name),
        "example": example,
    }


def _number(name: str, example: str, low: int, high: int) -> Callable[[str], str]:
    """Digits only (spaces and dashes dropped), between `low` and `high` of them."""

    def check(value: str) -> str:
        digits = _digits(value)
        if not digits.isdigit() or not low <= len(digits) <= high:
            raise Invalid(_looks_like(name, example))
        return digits

    return check


def _choice(choices: tuple[tuple[str, str], ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in dict(choices):
            raise Invalid(gettext("Choose one of the list."))
        return value

    return check


def _iban(value: str) -> str:
    try:
        return IBAN(value).compact
    except SchwiftyException:
        raise Invalid(gettext("This is not a valid IBAN.")) from None


def _bic(value: str) -> str:
    try:
        return str(BIC(value))
    except SchwiftyException:
        raise Invalid(gettext("This is not a valid BIC.")) from None


def _show_iban(value: str) -> str:
    return IBAN(value).formatted


def clabe_check_digit(first17: str) -> str:
    """The CLABE's control digit: weights 3, 7, 1 over the first 17 digits, each product
    taken modulo 10 (Banco de México, "Estandarización de la CLABE")."""
    total = sum(int(d) * (3, 7, 1)[i % 3] % 10 for i, d in enumerate(first17))
    return str((10 - total % 10) % 10)


def _clabe(value: str) -> str:
    digits = _digits(value)
    if not digits.isdigit() or len(digits) != 18:
        raise Invalid(gettext("A CLABE has 18 digits."))
    if clabe_check_digit(digits[:17]) != digits[17]:
        raise Invalid(
            gettext("This is not a valid %(name)s: the check digit does not match.")
            % {"name": "CLABE"}
        )
    return digits


_cpf = _stdnum(cpf, "CPF", "390.533.447-05")
_cnpj = _stdnum(cnpj, "CNPJ", "16.727.230/0001-97")


def _cpf_or_cnpj(value: str) -> str:
    # A person's CPF has 11 digits, a company's CNPJ 14: the length tells which to check.
    return _cnpj(value) if len(_digits(value)) > 11 else _cpf(value)


def _show_cpf_or_cnpj(value: str) -> str:
    return cnpj.format(value) if len(value) > 11 else cpf.format(value)


def _pix_email(value: str) -> str:
    try:
        email = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid(gettext("This is not a valid e-mail address.")) from None
    if len(email) > 77:  # the longest key the PIX directory (DICT) holds
        raise Invalid(gettext("A PIX key is at most 77 characters long."))
    return email


def _pix_phone(value: str) -> str:
    """+55, the two-digit area code, then 8 or 9 digits (the form the PIX directory keeps)."""
    digits = re.sub(r"[\s()\-.]", "", value)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("55"):
            raise Invalid(gettext("A Brazilian phone number starts with +55."))
        digits = digits[2:]
    if not digits.isdigit() or len(digits) not in (10, 11) or digits[0] == "0":
        raise Invalid(_looks_like(N_("phone number"), "+55 41 98765-4321"))
    return f"+55{digits}"


def _pix_random(value: str) -> str:
    try:
        key = uuid.UUID(value.strip())
    except ValueError:
        example = "123e4567-e89b-12d3-a456-426614174000"
        raise Invalid(_looks_like(N_("random key"), example)) from None
    return str(key)


def _br_branch(value: str) -> str:
    """Four digits, with the check digit some banks add ("1234-5")."""
    match = re.fullmatch(r"(\d{1,4})(?:-?([\dXx]))?", value.strip())
    if match is None:
        raise Invalid(_looks_like(N_("branch"), "0001-9"))
    number, dv = match.groups()
    return number.zfill(4) + (f"-{dv.upper()}" if dv else "")


def _br_account(value: str) -> str:
    """The account number and its check digit, after a dash ("12345678-9")."""
    match = re.fullmatch(r"(\d{1,13})-([\dXx])", re.sub(r"[\s.]", "", value))
    if match is None:
        raise Invalid(_looks_like(N_("account number with its check digit"), "12345-5"))
    return f"{match[1]}-{match[2].upper()}"


def _bb_check_digit(number: str) -> str:
    """Banco do Brasil's modulo 11 check digit of a branch or an account: weights from 2,
    rising from the right; 10 is written X, 11 is written 0."""
    total = sum(int(d) * w for d, w in zip(reversed(number), range(2, 20), strict=False))
    dv = 11 - total % 11
    return {10: "X", 11: "0"}.get(dv, str(dv))


def _br_bank_check(details: dict[str, str]) -> dict[str, str]:
    """Check digits of the branch and the account at the banks whose rule is public.

    Each Brazilian bank has its own rule; Banco do Brasil's (bank 001) is checked here, the
    others by their form only, as their payment systems check them again."""
    problems: dict[str, str] = {}
    if details.get("bank_code") != "001":
        return problems
    wrong = gettext("This is not a valid %(name)s: the check digit does not match.")
    branch, _, branch_dv = details["branch"].partition("-")
    if branch_dv and _bb_check_digit(branch) != branch_dv:
        problems["branch"] = wrong % {"name": gettext("branch")}
    account, _, account_dv = details["account"].partition("-")
    if _bb_check_digit(account) != account_dv:
        problems["account"] = wrong % {"name": gettext("account number")}
    return problems


def _sort_code(value: str) -> str:
    digits = _digits(value)
    if not digits.isdigit() or len(digits) != 6:
        raise Invalid(_looks_like(N_("sort code"), "20-00-00"))
    return digits


def _show_sort_code(value: str) -> str:
    return f"{value[0:2]}-{value[2:4]}-{value[4:6]}"


# --- banks and account types ---------------------------------------------------------------

# Chilean banks by their code at the CMF (formerly SBIF), the code Chilean transfers use.
CHILEAN_BANKS: tuple[tuple[str, str], ...] = (
    ("001", "Banco de Chile / Edwards"),
    ("009", "Banco Internacional"),
    ("012", "BancoEstado"),
    ("014", "Scotiabank Chile"),
    ("016", "Banco BCI"),
    ("028", "Banco BICE"),
    ("031", "HSBC Bank Chile"),
    ("037", "Banco Santander Chile"),
    ("039", "Banco Itaú Chile"),
    ("049", "Banco Security"),
    ("051", "Banco Falabella"),
    ("053", "Banco Ripley"),
    ("055", "Banco Consorcio"),
    ("059", "Banco BTG Pactual Chile"),
    ("672", "Coopeuch"),
)
CHILEAN_ACCOUNT_TYPES = (
    ("corriente", N_("Checking account (cuenta corriente)")),
    ("vista", N_("Sight account (cuenta vista, CuentaRUT)")),
    ("ahorro", N_("Savings account (cuenta de ahorro)")),
)
# Colombian banks by their code in the ACH Colombia network.
COLOMBIAN_BANKS: tuple[tuple[str, str], ...] = (
    ("001", "Banco de Bogotá"),
    ("002", "Banco Popular"),
    ("006", "Banco Itaú"),
    ("007", "Bancolombia"),
    ("009", "Citibank Colombia"),
    ("012", "Banco GNB Sudameris"),
    ("013", "BBVA Colombia"),
    ("019", "Scotiabank Colpatria"),
    ("023", "Banco de Occidente"),
    ("032", "Banco Caja Social"),
    ("040", "Banco Agrario"),
    ("051", "Davivienda"),
    ("052", "Banco AV Villas"),
    ("062", "Banco Falabella"),
    ("507", "Nequi"),
)
COLOMBIAN_ACCOUNT_TYPES = (
    ("corriente", N_("Checking account (cuenta corriente)")),
    ("ahorros", N_("Savings account (cuenta de ahorros)")),
)
COLOMBIAN_ID_TYPES = (("nit", N_("NIT (company)")), ("cc", N_("Cédula de ciudadanía (person)")))
US_ACCOUNT_TYPES = (("checking", N_("Checking")), ("savings", N_("Savings")))

_nit = _stdnum(nit, "NIT", "900.373.115-3")
_cedula = _number(N_("cédula"), "1020304050", 6, 10)


def _co_holder_check(details: dict[str, str]) -> dict[str, str]:
    """The holder's identifier is checked by its type: a NIT has a check digit, a cédula
    does not."""
    # The field itself only strips the value: its rule depends on the type, known only here.
    try:
        check = _nit if details["holder_id_type"] == "nit" else _cedula
        details["holder_id"] = check(details["holder_id"])
    except Invalid as exc:
        return {"holder_id": exc.message}
    return {}


# --- the methods ---------------------------------------------------------------------------

IBAN_FIELD = Field(
    "iban", N_("IBAN"), "DE89 3704 0044 0532 0130 00", _iban, secret=True, show=_show_iban
)
BIC_FIELD = Field("bic", N_("BIC"), "CAIXESBBXXX", _bic, optional=True)


def _pix(
    code: str,
    label: str,
    key_label: str,
    example: str,
    check: Callable[[str], str],
    show: Callable[[str], str] = str,
) -> Method:
    return Method(
        code,
        label,
        (Field("pix_key", key_label, example, check, secret=True, show=show),),
        account_field="pix_key",
    )


METHODS: dict[str, Method] = {
    m.code: m
    for m in (
        Method("iban", N_("IBAN (SEPA transfer)"), (IBAN_FIELD, BIC_FIELD), account_field="iban"),
        _pix("br_pix_cpf", N_("PIX key: CPF"), N_("CPF"), "390.533.447-05", _cpf, cpf.format),
        _pix(
            "br_pix_cnpj", N_("PIX key: CNPJ"), N_("CNPJ"), "16.727.230/0001-97", _cnpj, cnpj.format
        ),
        _pix(
            "br_pix_email",
            N_("PIX key: e-mail"),
            N_("E-mail address"),
            "financeiro@empresa.com.br",
            _pix_email,
        ),
        _pix(
            "br_pix_phone",
            N_("PIX key: phone"),
            N_("Phone number"),
            "+55 41 98765-4321",
            _pix_phone,
        ),
        _pix(
            "br_pix_random",
            N_("PIX key: random key"),
            N_("Random key"),
            "123e4567-e89b-12d3-a456-426614174000",
            _pix_random,
        ),
        Method(
            "br_bank",
            N_("Bank account in Brazil (TED)"),
            (
                Field(
                    "holder_id",
                    N_("CPF or CNPJ of the holder"),
                    "16.727.230/0001-97",
                    _cpf_or_cnpj,
                    secret=True,
                    show=_show_cpf_or_cnpj,
                ),
                Field(
                    "bank_code",
                    N_("Bank code (COMPE)"),
                    "001",
                    _number(N_("bank code"), "001", 3, 3),
                ),
                Field("branch", N_("Branch (agência)"), "0001-9", _br_branch),
                Field(
                    "account",
                    N_("Account number with its check digit"),
                    "12345-5",
                    _br_account,
                    secret=True,
                ),
            ),
            account_field="account",
            check=_br_bank_check,
        ),
        Method(
            "cl_account",
            N_("Bank account in Chile"),
            (
                Field(
                    "rut",
                    N_("RUT of the holder"),
                    "76.086.428-5",
                    _stdnum(rut, "RUT", "76.086.428-5"),
                    secret=True,
                    show=rut.format,
                ),
                Field("bank", N_("Bank"), "", _choice(CHILEAN_BANKS), choices=CHILEAN_BANKS),
                Field(
                    "account_type",
                    N_("Account type"),
                    "",
                    _choice(CHILEAN_ACCOUNT_TYPES),
                    choices=CHILEAN_ACCOUNT_TYPES,
                ),
                Field(
                    "account_number",
                    N_("Account number"),
                    "00-123-45678-09",
                    _number(N_("account number"), "00-123-45678-09", 4, 20),
                    secret=True,
                ),
            ),
            account_field="account_number",
        ),
        Method(
            "mx_clabe",
            N_("CLABE (SPEI transfer)"),
            (Field("clabe", N_("CLABE"), "032180000118359719", _clabe, secret=True),),
            account_field="clabe",
        ),
        Method(
            "ar_cbu",
            N_("CBU or CVU"),
            (
                Field(
                    "cbu",
                    N_("CBU or CVU"),
                    "2850590940090418135201",
                    _stdnum(cbu, "CBU/CVU", "2850590940090418135201"),
                    secret=True,
                ),
            ),
            account_field="cbu",
        ),
        Method(
            "co_account",
            N_("Bank account in Colombia"),
            (
                Field(
                    "holder_id_type",
                    N_("Holder's identifier"),
                    "",
                    _choice(COLOMBIAN_ID_TYPES),
                    choices=COLOMBIAN_ID_TYPES,
                ),
                Field(
                    "holder_id", N_("NIT or cédula number"), "900.373.115-3", str.strip, secret=True
                ),
                Field("bank", N_("Bank"), "", _choice(COLOMBIAN_BANKS), choices=COLOMBIAN_BANKS),
                Field(
                    "account_type",
                    N_("Account type"),
                    "",
                    _choice(COLOMBIAN_ACCOUNT_TYPES),
                    choices=COLOMBIAN_ACCOUNT_TYPES,
                ),
                Field(
                    "account_number",
                    N_("Account number"),
                    "123-456789-01",
                    _number(N_("account number"), "123-456789-01", 5, 20),
                    secret=True,
                ),
            ),
            account_field="account_number",
            check=_co_holder_check,
        ),
        Method(
            "us_ach",
            N_("Bank account in the United States (ACH)"),
            (
                Field(
                    "routing_number",
                    N_("ABA routing number"),
                    "111000025",
                    _stdnum(rtn, N_("ABA routing number"), "111000025"),
                ),
                Field(
                    "account_number",
                    N_("Account number"),
                    "000123456789",
                    _number(N_("account number"), "000123456789", 4, 17),
                    secret=True,
                ),
                Field(
                    "account_type",
                    N_("Account type"),
                    "",
                    _choice(US_ACCOUNT_TYPES),
                    choices=US_ACCOUNT_TYPES,
                ),
            ),
            account_field="account_number",
        ),
        Method(
            "gb_sort_code",
            N_("Sort code and account number (UK)"),
            (
                Field("sort_code", N_("Sort code"), "20-00-00", _sort_code, show=_show_sort_code),
                Field(
                    "account_number",
                    N_("Account number"),
                    "31926819",
                    _number(N_("account number"), "31926819", 8, 8),
                    secret=True,
                ),
            ),
            account_field="account_number",
        ),
    )
}

# The countries of the SEPA scheme, where an IBAN (and a BIC, optional inside SEPA) is enough.
SEPA_COUNTRIES = frozenset(
    "AD AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MC MT NL NO PL "
    "PT RO SE SI SK SM VA".split()
)
_COUNTRY_METHODS: dict[str, tuple[str, ...]] = {
    "BR": tuple(code for code in METHODS if code.startswith("br_")),
    "CL": ("cl_account",),
    "MX": ("mx_clabe",),
    "AR": ("ar_cbu",),
    "CO": ("co_account",),
    "US": ("us_ach",),
    # The UK pays at home by sort code, and from abroad by IBAN.
    "GB": ("gb_sort_code", "iban"),
}


def methods_for(country: str) -> tuple[Method, ...]:
    """The methods of a country, the most usual first; an IBAN where the country has no
    table of its own (most of the world's banks outside the Americas take one)."""
    codes = _COUNTRY_METHODS.get(country.upper(), ("iban",))
    return tuple(METHODS[code] for code in codes)


def country_table() -> list[tuple[str, tuple[Method, ...]]]:
    """Every country with a table of its own, then the SEPA countries: for the README and
    the page."""
    own = [(country, methods_for(country)) for country in sorted(_COUNTRY_METHODS)]
    return [*own, ("SEPA", (METHODS["iban"],))]


def validate(code: str, values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The method's fields in their compact form, and the errors by field name."""
    method = METHODS.get(code)
    if method is None:
        return {}, {"method": gettext("Choose how you are paid from the list.")}
    details: dict[str, str] = {}
    problems: dict[str, str] = {}
    for f in method.fields:
        value = " ".join(str(values.get(f.name) or "").split())
        if not value:
            if f.choices:
                problems[f.name] = gettext("Choose one of the list.")
            elif not f.optional:
                problems[f.name] = gettext("Enter the %(field)s.") % {"field": gettext(f.label)}
            continue
        if len(value) > MAX_LENGTH:
            problems[f.name] = gettext("This is too long.")
            continue
        try:
            details[f.name] = f.check(value)
        except Invalid as exc:
            problems[f.name] = exc.message
    # Rules between fields run only on fields that are each valid.
    if not problems:
        problems = method.check(details)
    # All or nothing: details with any problem are never returned, so never half saved.
    return (details, {}) if not problems else ({}, problems)


def _label_of(f: Field, value: str) -> str:
    return gettext(dict(f.choices).get(value, value)) if f.choices else value


def shown(
    code: str, details: Mapping[str, str], hide: Callable[[str], str] = mask
) -> list[tuple[str, str]]:
    """(field name, value) of each field for the payee and the API: secrets by their last
    four only, through `hide`."""
    method = METHODS.get(code)
    if method is None:
        return []
    return [
        (f.name, hide(details[f.name]) if f.secret else _label_of(f, f.show(details[f.name])))
        for f in method.fields
        if details.get(f.name)
    ]


def last4(code: str, details: Mapping[str, str]) -> str:
    method = METHODS.get(code)
    value = details.get(method.account_field, "") if method else ""
    return tail(value)


def instruction(code: str, holder: str, details: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every field in full, as the bank expects it: what finance copies into its bank."""
    method = METHODS.get(code)
    if method is None:
        return []
    lines = [(gettext("Account holder"), holder), (gettext("Paid by"), gettext(method.label))]
    for f in method.fields:
        value = details.get(f.name)
        if value:
            full = f.show(value)
            if f.choices:
                # A bank is named with its code too: the code is what a bank's form asks for.
                label = _label_of(f, value)
                full = f"{label} ({value})" if value.isdigit() else label
            lines.append((gettext(f.label), full))
    return lines
