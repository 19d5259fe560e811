"""The text form of a Program: a hand-written tokenizer and recursive-descent parser, and a printer.

Grammar (statements end at a newline or ``;``; ``#`` starts a comment)::

    statement := NAME '=' expr
    expr      := term (('+' | '-') term)*
    term      := unary (('*' | '/') unary)*
    unary     := '-' unary | atom
    atom      := NUMBER | NAME | NAME '(' [expr (',' expr)*] ')' | '(' expr ')'

User text is never handed to Python's `eval`, `exec` or `ast`: a program read from a shared
database cannot run code. `print_program(parse(text))` is the canonical text of a program, and
`parse(print_program(p)) == p` for every program in canonical naming (see `ir.canonical_names`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from automl.ir import (
    Argument,
    Instruction,
    Program,
    ProgramError,
    Signature,
    base_name,
    canonical_names,
    fresh_name,
    parameter_sort_key,
)

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r]+)
  | (?P<comment>\#[^\n]*)
  | (?P<newline>\n)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<symbol>[-+*/(),=;])
    """,
    re.VERBOSE,
)


class DslError(ProgramError):
    """A syntax or name error in program text, located by line and column (1-based)."""

    def __init__(self, message: str, line: int, column: int, source: str = "<program>"):
        super().__init__(f"{source}:{line}:{column}: {message}")
        self.line = line
        self.column = column
        self.reason = message


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "name" | "symbol" | "end_of_statement" | "end"
    text: str
    line: int
    column: int

    def describe(self) -> str:
        if self.kind == "end":
            return "end of text"
        if self.kind == "end_of_statement":
            return "end of line" if self.text == "\n" else "';'"
        return repr(self.text)


def tokenize(text: str, source: str = "<program>") -> list[Token]:
    tokens: list[Token] = []
    line, line_start, position = 1, 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        column = position - line_start + 1
        if match is None:
            raise DslError(f"unexpected character {text[position]!r}", line, column, source)
        kind = match.lastgroup
        value = match.group()
        if kind == "newline":
            tokens.append(Token("end_of_statement", "\n", line, column))
            line, line_start = line + 1, match.end()
        elif kind == "symbol" and value == ";":
            tokens.append(Token("end_of_statement", ";", line, column))
        elif kind in ("number", "name", "symbol"):
            if kind == "number" and match.end() < len(text) and (
                text[match.end()].isalpha() or text[match.end()] == "_"
            ):
                raise DslError(f"malformed number {value + text[match.end()]!r}...", line,
                               column, source)
            tokens.append(Token(kind, value, line, column))
        position = match.end()
    tokens.append(Token("end", "", line, position - line_start + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, signature: Signature, source: str):
        self.tokens = tokenize(text, source)
        self.position = 0
        self.signature = signature
        self.source = source
        self.infix = dict(signature.infix)
        self.named_constants = dict(signature.named_constants)
        self.instructions: list[Instruction] = []
        # name -> register (or literal, for `name = 0.5`) it currently stands for
        self.bindings: dict[str, Argument] = {name: name for name in signature.inputs}
        self.versions: dict[str, int] = {name: 0 for name in signature.inputs}
        self.parameters: set[str] = set()
        self.temporary_count = 0
        self.last_temporary = 0  # the last `t<k>` fresh_temporary named
        self.text_names = {t.text for t in self.tokens if t.kind == "name"}

    # -- token helpers -------------------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def error(self, message: str, token: Token | None = None) -> DslError:
        token = token or self.current
        return DslError(message, token.line, token.column, self.source)

    def expect_symbol(self, symbol: str, what: str) -> Token:
        token = self.current
        if token.kind != "symbol" or token.text != symbol:
            raise self.error(f"expected {what}, found {token.describe()}")
        return self.advance()

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Program:
        while self.current.kind != "end":
            if self.current.kind == "end_of_statement":
                self.advance()
                continue
            self.statement()
            if self.current.kind not in ("end_of_statement", "end"):
                raise self.error(
                    f"expected end of statement, found {self.current.describe()}"
                )
        outputs = []
        for name in self.signature.outputs:
            bound = self.bindings.get(name)
            if bound is None:  # an output that is also an input passes through unchanged
                raise DslError(f"output {name!r} is never assigned", self.current.line,
                               self.current.column, self.source)
            if not isinstance(bound, str):
                raise DslError(f"output {name!r} is a constant; it must be computed",
                               self.current.line, self.current.column, self.source)
            outputs.append((name, bound))
        program = Program(
            inputs=tuple(self.signature.inputs),
            parameters=tuple(sorted(self.parameters, key=parameter_sort_key)),
            instructions=tuple(self.instructions),
            outputs=tuple(outputs),
        )
        return canonical_names(program)

    def statement(self) -> None:
        target = self.current
        if target.kind != "name":
            raise self.error(f"expected a name to assign to, found {target.describe()}")
        self.advance()
        if self.signature.is_parameter(target.text):
            raise self.error(f"{target.text!r} is a fitted constant and cannot be assigned",
                             target)
        if target.text in self.named_constants:
            raise self.error(f"{target.text!r} is a named constant and cannot be assigned", target)
        self.expect_symbol("=", "'=' after the name being assigned")
        value = self.expression(target.text)
        if isinstance(value, str) and value.startswith("\0"):
            # the expression's last instruction becomes this name's new version
            last = self.instructions[-1]
            self.instructions[-1] = Instruction(self.new_register(target.text), last.op, last.args)
            self.bindings[target.text] = self.instructions[-1].register
        else:
            self.bindings[target.text] = value  # an alias: `y = x` or `y = 0.5` emits nothing

    def new_register(self, name: str) -> str:
        if name not in self.versions:
            self.versions[name] = 0
            return name
        self.versions[name] += 1
        return f"{name}'{self.versions[name]}"

    def emit(self, op_name: str, args: list[Argument], token: Token) -> Argument:
        """Append an instruction computing into a temporary; the caller may rename it."""
        if not self.signature.op_allowed(op_name):
            allowed = self.signature.ops or self.signature.registry.names()
            raise self.error(
                f"unknown op {op_name!r} (this space has: {', '.join(sorted(allowed))})", token
            )
        op = self.signature.registry.get(op_name)
        if len(args) != op.arity:
            raise self.error(
                f"{op_name} takes {op.arity} argument{'s' if op.arity != 1 else ''}, "
                f"got {len(args)}",
                token,
            )
        self.temporary_count += 1
        temporary = f"\0{self.temporary_count}"
        self.instructions.append(Instruction(temporary, op_name, tuple(args)))
        return temporary

    def materialize(self, value: Argument) -> Argument:
        """A nested expression used as an argument gets a named temporary register."""
        if isinstance(value, str) and value.startswith("\0"):
            last = self.instructions[-1]
            name = self.fresh_temporary()
            self.instructions[-1] = Instruction(self.new_register(name), last.op, last.args)
            return self.instructions[-1].register
        return value

    def fresh_temporary(self) -> str:
        """``t<k>`` with the smallest k not taken. Names are only ever taken (the caller
        registers the one returned), so the search goes on from the last one found instead of
        from 1: parsing stays linear in the program's length."""
        counter = self.last_temporary + 1
        while f"t{counter}" in self.text_names or f"t{counter}" in self.versions:
            counter += 1
        self.last_temporary = counter
        return f"t{counter}"

    def expression(self, context: str) -> Argument:
        left = self.term(context)
        while self.current.kind == "symbol" and self.current.text in "+-":
            token = self.advance()
            left = self.materialize(left)
            right = self.materialize(self.term(context))
            left = self.emit(self.infix[token.text], [left, right], token)
        return left

    def term(self, context: str) -> Argument:
        left = self.unary(context)
        while self.current.kind == "symbol" and self.current.text in "*/":
            token = self.advance()
            left = self.materialize(left)
            right = self.materialize(self.unary(context))
            left = self.emit(self.infix[token.text], [left, right], token)
        return left

    def unary(self, context: str) -> Argument:
        if self.current.kind == "symbol" and self.current.text == "-":
            token = self.advance()
            operand = self.unary(context)
            if isinstance(operand, float):
                return -operand
            return self.emit(self.signature.negate, [self.materialize(operand)], token)
        return self.atom(context)

    def atom(self, context: str) -> Argument:
        token = self.current
        if token.kind == "number":
            self.advance()
            value = float(token.text)
            if value == float("inf"):
                raise self.error(f"number {token.text} is out of range", token)
            return value
        if token.kind == "symbol" and token.text == "(":
            self.advance()
            value = self.expression(context)
            self.expect_symbol(")", "')' to close the parenthesis")
            return value
        if token.kind == "name":
            self.advance()
            if self.current.kind == "symbol" and self.current.text == "(":
                return self.call(token, context)
            return self.reference(token)
        raise self.error(f"expected an expression, found {token.describe()}")

    def call(self, name: Token, context: str) -> Argument:
        self.expect_symbol("(", "'('")
        args: list[Argument] = []
        if not (self.current.kind == "symbol" and self.current.text == ")"):
            while True:
                args.append(self.materialize(self.expression(context)))
                if self.current.kind == "symbol" and self.current.text == ",":
                    self.advance()
                    continue
                break
        self.expect_symbol(")", "',' or ')' in the argument list")
        return self.emit(name.text, args, name)

    def reference(self, token: Token) -> Argument:
        name = token.text
        if name in self.bindings:
            return self.bindings[name]
        if name in self.named_constants:
            return float(self.named_constants[name])
        if self.signature.is_parameter(name):
            self.parameters.add(name)
            self.bindings[name] = name
            return name
        known = ", ".join(self.signature.inputs)
        raise self.error(f"{name!r} is not defined (inputs: {known})", token)


def parse(text: str, signature: Signature, source: str = "<program>") -> Program:
    """Parse program text. Raises `DslError` with ``source:line:column: what was expected``."""
    parser = _Parser(text, signature, source)
    try:
        return parser.parse()
    except RecursionError:
        raise parser.error("expression nested too deeply") from None


def format_number(value: float) -> str:
    """Shortest text that reads back as exactly this float."""
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        raise ProgramError(f"literal {text} has no text form")
    return text


def print_program(program: Program, signature: Signature) -> str:
    """The canonical text form: one statement per line, infix where the op has an operator."""
    operator_of = {op: symbol for symbol, op in signature.infix}
    current: dict[str, str] = {}  # base name -> register it currently shows
    lines = []

    def show(argument: Argument) -> str:
        if isinstance(argument, float):
            return format_number(argument)
        name = base_name(argument)
        if current.get(name, argument) != argument:
            raise ProgramError(f"register {argument!r} is shadowed; call canonical_names first")
        return name

    for ins in program.instructions:
        args = [show(a) for a in ins.args]
        if ins.op in operator_of and len(args) == 2:
            right = args[1]
            if right.startswith("-"):
                right = f"({right})"
            expression = f"{args[0]} {operator_of[ins.op]} {right}"
        elif ins.op == signature.negate and isinstance(ins.args[0], str):
            # `-0.5` would read back as a literal, so a negated literal keeps the call form
            expression = f"-{args[0]}"
        else:
            expression = f"{ins.op}({', '.join(args)})"
        name = base_name(ins.register)
        current[name] = ins.register
        lines.append(f"{name} = {expression}")
    # Outputs bound to another name's value are printed as aliases (`v = m`). They act at once,
    # so order them: rebind a name only when no pending alias still reads its current value;
    # a cycle (m = v; v = m) first keeps one value under a fresh name (t1 = m).
    pending = [(name, register) for name, register in program.outputs
               if current.get(name, name) != register]
    used = {base_name(r) for r in program.definition_index()} | set(program.output_names)
    while pending:
        ready = next((i for i, (name, _) in enumerate(pending)
                      if not any(other != name and r == current.get(name, name)
                                 for other, r in pending)), None)
        if ready is None:
            name, _ = pending[0]
            shown = current.get(name, name)
            temporary = fresh_name("t", used)
            used.add(temporary)
            lines.append(f"{temporary} = {show(shown)}")
            current[temporary] = temporary
            pending = [(n, temporary if r == shown else r) for n, r in pending]
            continue
        name, register = pending.pop(ready)
        lines.append(f"{name} = {show(register)}")
        current[name] = register
    return "\n".join(lines) + "\n"
