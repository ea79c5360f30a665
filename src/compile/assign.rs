//! A value held to the field it is assigned to: may it be absent, its type, its unit,
//! whole numbers, and the schema's fixed and allowed values.

use super::{const_json, Cx, Diag, FieldType, Node, Op, SchemaNode, Span, Ty, Val, C};

impl<'m> Cx<'m> {
    pub(super) fn expect_bool(&mut self, t: &Ty, span: Span) {
        if !matches!(t.strip(), Ty::Bool | Ty::Any | Ty::Null) {
            self.err(
                Diag::error(
                    C::TypeMismatch,
                    span,
                    format!("a condition must be true or false, this is {}", t.words()),
                )
                .label("not a condition"),
            );
        }
    }

    pub(super) fn check_assign(
        &mut self,
        t: &Ty,
        n: &Node,
        prop: &SchemaNode,
        full: &str,
        span: Span,
        required: bool,
    ) {
        if let (Ty::Opt(_), true) = (t, required) {
            self.err(
                Diag::error(C::MaybeAbsent, span, format!("`{full}` is required but this may be absent in a RED order"))
                    .label("may be absent")
                    .help("give a default with `?? …`, or reject such orders first with `require … != null else \"…\"`"),
            );
        }
        if !t.fits(prop.ty) {
            let help = match (t, prop.ty) {
                (Ty::Num { .. }, FieldType::String) => "convert explicitly: `string(…)`",
                (Ty::Str, FieldType::Integer | FieldType::Number) => {
                    "convert explicitly: `number(…)`"
                }
                _ => "map a value of the field's type",
            };
            self.err(
                Diag::error(
                    C::TypeMismatch,
                    span,
                    format!(
                        "`{full}` is {} but this gives {}",
                        prop.ty.as_str(),
                        t.words()
                    ),
                )
                .label(format!("{} here", t.words()))
                .help(help),
            );
            return;
        }
        if let (Some(fu), Some(vu)) = (prop.unit, t.unit()) {
            if fu != vu {
                let help = if fu.dimension() == vu.dimension() && fu.scale() > vu.scale() {
                    // To a larger unit (fen → yuan) nothing is lost: no rounding to choose.
                    format!("convert it: `convert(…, {fu})` (exact)")
                } else if fu.dimension() == vu.dimension() {
                    format!("convert it: `convert(…, {fu}, half_up)` (or `half_even`, `down`)")
                } else {
                    format!("`{full}` counts {fu}; {vu} measures something else")
                };
                let d = Diag::error(
                    C::UnitMismatch,
                    span,
                    format!("`{full}` is counted in {fu} but this amount is in {vu}"),
                )
                .label(format!("in {vu}"))
                .help(help);
                let d = self.blame_target(d, format!("this contract counts it in {fu}"));
                self.err(d);
                return;
            }
        }
        self.check_whole(t, n, prop, full, span);
        if let Op::Const(v) = &n.code {
            if prop.ty == FieldType::Integer {
                if let Val::Num(a) = v {
                    if !a.value.fract().is_zero() {
                        self.err(
                            Diag::error(
                                C::TypeMismatch,
                                span,
                                format!("`{full}` is an integer but {} has a fraction", a.value),
                            )
                            .label("not whole")
                            .help("round it: `round(…, half_up)`"),
                        );
                    }
                }
            }
            if let (Some(c), Some(j)) = (&prop.constant, const_json(v)) {
                if *c != j {
                    self.err(
                        Diag::error(
                            C::FixedValue,
                            span,
                            format!("`{full}` is fixed to {c} by the target schema"),
                        )
                        .label(format!("gives {j}"))
                        .help(format!("write `{c}`")),
                    );
                }
            }
            if let (Some(allowed), Some(j)) = (&prop.allowed, const_json(v)) {
                if !allowed.contains(&j) {
                    let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                    self.err(
                        Diag::error(
                            C::FixedValue,
                            span,
                            format!("`{full}` takes one of {}", list.join(", ")),
                        )
                        .label(format!("gives {j}")),
                    );
                }
            }
        }
    }

    /// A field that takes whole numbers (an integer; fen; yuan to 2 places by its
    /// `x-decimal`) gets a value that may have a fraction: the run would reject the order.
    pub(super) fn check_whole(
        &mut self,
        t: &Ty,
        n: &Node,
        prop: &SchemaNode,
        full: &str,
        span: Span,
    ) {
        let places = match (prop.ty, prop.unit, prop.limits.decimal) {
            // A whole yuan is not known from a whole fen: left to the run.
            (FieldType::Integer, u, _) if u.is_none_or(|u| u.scale() == 1) => 0,
            (FieldType::Number, Some(u), Some(p))
                if 10i64.checked_pow(p.scale) == Some(u.scale()) =>
            {
                p.scale
            }
            _ => return,
        };
        // A constant into an integer is judged on its value (block.rs); Any at run time.
        let judged = matches!(n.code, Op::Const(_)) && prop.ty == FieldType::Integer;
        if judged || !t.all(&|t| matches!(t, Ty::Num { .. })) || t.whole() {
            return;
        }
        let round = if places == 0 {
            "`round(…, half_up)`".to_string()
        } else {
            format!("`round(…, {places}, half_up)`")
        };
        let takes = match prop.unit {
            Some(u) if places > 0 => format!("takes whole fen ({places} places of {u})"),
            Some(u) => format!("takes a whole number of {u}"),
            None => "is an integer".to_string(),
        };
        self.err(
            Diag::error(
                C::TypeMismatch,
                span,
                format!("`{full}` {takes} but this may have a fraction"),
            )
            .label("may have a fraction")
            .help(format!("round it: {round} (or `half_even`, `down`)")),
        );
    }
}
