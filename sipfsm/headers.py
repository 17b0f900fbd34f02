"""The typed header field values of RFC 3261 section 20 (and the extension headers), public.

A message hands these out: ``msg.via`` is a list of :class:`Via`, ``msg.to`` a :class:`NameAddr`,
``msg.cseq`` a :class:`CSeq`, and so on (:class:`sipfsm.Message`). Import them from here to
annotate code that receives them::

    from sipfsm.headers import NameAddr, Via

    def top_branch(via: list[Via]) -> str | None:
        return via[0].branch if via else None

Every class is a frozen dataclass naming the section of RFC 3261 that defines its value.
"""

from sipfsm.message.headers import (
    AuthParams,
    Challenge,
    ContentDisposition,
    Credentials,
    CSeq,
    DeltaParams,
    Event,
    HeaderParams,
    InfoItem,
    LanguageRange,
    MediaType,
    NameAddr,
    RAck,
    ReasonValue,
    RetryAfter,
    SipDate,
    SubscriptionState,
    Timestamp,
    Token,
    Via,
    Warning,
    Wildcard,
)

__all__ = [
    "AuthParams",
    "CSeq",
    "Challenge",
    "ContentDisposition",
    "Credentials",
    "DeltaParams",
    "Event",
    "HeaderParams",
    "InfoItem",
    "LanguageRange",
    "MediaType",
    "NameAddr",
    "RAck",
    "ReasonValue",
    "RetryAfter",
    "SipDate",
    "SubscriptionState",
    "Timestamp",
    "Token",
    "Via",
    "Warning",
    "Wildcard",
]
