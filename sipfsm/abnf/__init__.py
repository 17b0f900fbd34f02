"""Data compilers, part one: the ABNF reader (RFC 5234, RFC 7405) and the compiler that turns
``grammar/*.abnf`` into the Lark grammar and the header regexes the message layer runs."""
