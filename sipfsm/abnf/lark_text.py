"""The Lark text of the rules that are not regular (RFC 3261's ``comment``, section 25.1, and
the fields that use it): Lark rules for its LALR parser, with the maximal regular runs inside
them as terminals named after their rule (:class:`LarkEmitter`)."""

from __future__ import annotations

from sipfsm.abnf.compiler import CompileError, Compiler
from sipfsm.abnf.construct import mk_alt, mk_rep
from sipfsm.abnf.header_table import lark_name
from sipfsm.abnf.ir import ALL, END
from sipfsm.abnf.reader import Alt, Node, Ref, Rep, Seq

__all__ = ["LarkEmitter"]


class LarkEmitter:
    """Builds the text of ``sip.lark``."""

    def __init__(self, comp: Compiler) -> None:
        self.c = comp
        self.terminals: dict[str, str] = {}
        self.rules: dict[str, str] = {}
        self._pending: list[str] = []
        self._anon = 0

    def terminal(self, name: str, regex: str) -> str:
        tname = name.upper().replace("-", "_")
        old = self.terminals.get(tname)
        if old is not None and old != regex:
            raise CompileError(f"terminal {tname} would have two definitions")
        self.terminals[tname] = regex
        return tname

    def regular(self, node: Node) -> bool:
        from sipfsm.abnf.reader import refs

        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, Ref):
                if n.key in self.c.nonregular:
                    return False
            elif isinstance(n, Alt | Seq):
                stack.extend(n.items)
            elif isinstance(n, Rep):
                stack.append(n.item)
        del refs
        return True

    def _term_for(self, node: Node, owner: str) -> str:
        ir = self.c.ir(node)
        regex = self.c.emit(ir, ALL | END, lalr=True)
        if isinstance(node, Ref):
            return self.terminal(node.name, regex)
        self._anon += 1
        return self.terminal(f"{owner}_T{self._anon}", regex)

    def conv(self, node: Node, owner: str) -> str:
        """Lark EBNF for ``node`` inside the non-regular rule ``owner``."""
        if self.regular(node):
            if not self.c.ir(node).nullable:
                return self._term_for(node, owner)
            return self._conv_nullable(node, owner)
        if isinstance(node, Ref):
            key = node.key
            rname = lark_name(self.c.g.rules[key].name)
            if rname not in self.rules and rname not in self._pending:
                self._pending.append(key)
                self.rules[rname] = ""  # reserve
            return rname
        if isinstance(node, Seq):
            out: list[str] = []
            run: list[Node] = []

            def flush() -> None:
                if not run:
                    return
                seq = run[0] if len(run) == 1 else Seq(tuple(run))
                out.append(self.conv(seq, owner))
                run.clear()

            for it in node.items:
                if self.regular(it):
                    run.append(it)
                else:
                    flush()
                    out.append(self.conv(it, owner))
            flush()
            return " ".join(out)
        if isinstance(node, Alt):
            return "(" + " | ".join(self.conv(i, owner) for i in node.items) + ")"
        if isinstance(node, Rep):
            item = node.item
            if node.max is None and isinstance(item, Alt):
                # *( a / b / nonregular ): the regular alternatives lex as one run, 1*( a / b ),
                # rather than one token per octet.
                regular = [a for a in item.items if self.regular(a)]
                if regular and all(isinstance(a, Ref) for a in regular):
                    names = "_".join(a.name for a in regular if isinstance(a, Ref))
                    run_re = self.c.emit(
                        mk_rep(1, None, mk_alt(self.c.ir(a) for a in regular)), ALL | END, True
                    )
                    parts = [self.terminal(f"{names}_RUN", run_re)] + [
                        self.conv(a, owner) for a in item.items if not self.regular(a)
                    ]
                    inner = "(" + " | ".join(parts) + ")"
                    return inner + ("*" if node.min == 0 else "+" if node.min == 1 else "")
            inner = self.conv(node.item, owner)
            inner = f"({inner})"
            if node.min == 0 and node.max == 1:
                return inner + "?"
            if node.min == 0 and node.max is None:
                return inner + "*"
            if node.min == 1 and node.max is None:
                return inner + "+"
            if node.max is None:
                return f"{inner} ~ {node.min} {inner}*"
            return f"{inner} ~ {node.min}..{node.max}"
        raise CompileError(f"cannot convert {node!r}")  # pragma: no cover

    def _conv_nullable(self, node: Node, owner: str) -> str:
        if isinstance(node, Ref):
            return self._conv_nullable(self.c.g.rules[node.key].body, owner)
        if isinstance(node, Rep) and not self.c.ir(node.item).nullable:
            inner = self._term_for(node.item, owner)
            if node.max == 1:
                return f"{inner}?"
            if node.max is None:
                return f"{inner}*"
            return f"{inner} ~ 0..{node.max}"
        if isinstance(node, Seq):
            return " ".join(
                self._conv_nullable(i, owner) if self.c.ir(i).nullable else self._term_for(i, owner)
                for i in node.items
            )
        raise CompileError(f"{owner}: cannot express {node!r} for the LALR parser")

    def add_rule(self, rname: str, node: Node, owner: str) -> None:
        self.rules[rname] = self.conv(node, owner)
        while self._pending:
            key = self._pending.pop(0)
            rule = self.c.g.rules[key]
            name = lark_name(rule.name)
            self.rules[name] = self.conv(rule.body, rule.name)
