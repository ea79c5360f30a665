//! The target contract: the JSON Schema of the request a mapping builds (the subset
//! bondmap reads: `type`, `properties`, `required`, `items`, `const`, `enum`,
//! `minimum`, `additionalProperties` as a schema, and the annotations `x-unit` and
//! `x-pii`).

use crate::money::Unit;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A union of types (`"type": ["number", "string"]`): known only at run time.
    Any,
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Any => "any",
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Object => "object",
            FieldType::Array => "array",
        }
    }
}

/// Kind of personal data a field holds; its values are masked in every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pii {
    Name,
    Phone,
    IdNumber,
    Address,
    /// A link to a photo of an ID card: nothing of it is shown.
    Photo,
}

impl Pii {
    pub fn parse(s: &str) -> Option<Pii> {
        Some(match s {
            "name" => Pii::Name,
            "phone" => Pii::Phone,
            "id_number" => Pii::IdNumber,
            "address" => Pii::Address,
            "photo" => Pii::Photo,
            _ => return None,
        })
    }
}

/// The RED order schema bondmap ships: the personal fields of an order when no mapping
/// is at hand (the redactor is made before an order is routed) or a mapping names no
/// source schema.
const RED_ORDER_SCHEMA: &str = include_str!("../mappings/schemas/red_order.schema.json");

/// The fields a schema marks `x-pii`, each as its path from the root (`list[]` for the
/// items of a list) with its kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PiiPaths {
    pub(crate) fields: Vec<(Vec<String>, Pii)>,
}

impl PiiPaths {
    /// Every `x-pii` field of `schema`.
    pub fn of_schema(schema: &Schema) -> PiiPaths {
        fn walk(n: &SchemaNode, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Pii)>) {
            if let Some(k) = n.pii {
                out.push((path.clone(), k));
            }
            for (name, child) in &n.properties {
                let seg = if child.items.is_some() {
                    format!("{name}[]")
                } else {
                    name.clone()
                };
                path.push(seg);
                walk(child, path, out);
                path.pop();
            }
            // Items of an unnamed list (a list of lists) are reached through the list.
            if let (Some(items), Some(last)) = (&n.items, path.last()) {
                if last.ends_with("[]") {
                    walk(items, path, out);
                }
            }
        }
        let mut fields = Vec::new();
        walk(&schema.root, &mut Vec::new(), &mut fields);
        PiiPaths { fields }
    }

    /// The personal fields of a RED order, from the shipped RED order schema.
    pub fn red() -> &'static PiiPaths {
        static RED: OnceLock<PiiPaths> = OnceLock::new();
        RED.get_or_init(|| {
            // The file is part of the build, and `red_schema_is_read` checks it parses.
            Schema::from_text(Path::new("red_order.schema.json"), RED_ORDER_SCHEMA)
                .map(|s| PiiPaths::of_schema(&s))
                .unwrap_or_default()
        })
    }

    /// The kind of the personal field named `name` (the last part of a path), if any.
    pub fn kind_of_name(&self, name: &str) -> Option<Pii> {
        let name = name.trim_end_matches(']').trim_end_matches('[');
        self.fields.iter().find_map(|(p, k)| {
            let last = p.last()?;
            (last.trim_end_matches("[]") == name).then_some(*k)
        })
    }

    /// The kind of personal data a path read from a mapping (`$.a.b`, `item.name`,
    /// `list[0].c`) holds, judged by its last field name.
    pub fn kind_of_path(&self, path: &str) -> Option<Pii> {
        let last = path.rsplit(['.', '[']).next().unwrap_or(path);
        self.kind_of_name(last)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaNode {
    pub ty: FieldType,
    /// Object fields in schema order.
    pub properties: Vec<(String, SchemaNode)>,
    pub required: Vec<String>,
    /// `additionalProperties` given as a schema: an object of free keys (Cainiao's
    /// `extendFields`), each value held to it.
    pub additional: Option<Box<SchemaNode>>,
    pub items: Option<Box<SchemaNode>>,
    pub constant: Option<Value>,
    pub allowed: Option<Vec<Value>>,
    pub unit: Option<Unit>,
    pub pii: Option<Pii>,
    pub minimum: Option<Decimal>,
    /// `maxLength` and `x-decimal` ([`crate::limits`]).
    pub limits: crate::limits::Limits,
    pub description: Option<String>,
}

impl SchemaNode {
    pub fn property(&self, name: &str) -> Option<&SchemaNode> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }
    /// The schema of the field `name` of this object: its property, or else the schema
    /// every free key takes (`additionalProperties`).
    pub fn field(&self, name: &str) -> Option<&SchemaNode> {
        self.property(name).or(self.additional.as_deref())
    }
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }
    /// The object a block or loop body fills: the node itself, or an array's items.
    pub fn object(&self) -> &SchemaNode {
        match (&self.ty, &self.items) {
            (FieldType::Array, Some(items)) => items,
            _ => self,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub id: Option<String>,
    pub root: SchemaNode,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read schema {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("schema {path} is not valid JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("schema {path}: {at}: {message}")]
    Shape {
        path: String,
        at: String,
        message: String,
    },
}

impl Schema {
    pub fn load(path: &Path) -> Result<Schema, SchemaError> {
        let shown = crate::repo::display_name(path);
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Io {
            path: shown.clone(),
            source,
        })?;
        Schema::from_text(path, &text)
    }

    /// A schema from its text (read by the caller, e.g. within the mapping root).
    pub fn from_text(path: &Path, text: &str) -> Result<Schema, SchemaError> {
        let shown = crate::repo::display_name(path);
        let v: Value = serde_json::from_str(text).map_err(|source| SchemaError::Json {
            path: shown.clone(),
            source,
        })?;
        Schema::from_value(&v).map_err(|(at, message)| SchemaError::Shape {
            path: shown,
            at,
            message,
        })
    }

    pub fn from_value(v: &Value) -> Result<Schema, (String, String)> {
        Ok(Schema {
            id: v.get("$id").and_then(Value::as_str).map(str::to_string),
            root: node(v, "$")?,
        })
    }
}

fn node(v: &Value, at: &str) -> Result<SchemaNode, (String, String)> {
    let err = |m: &str| (at.to_string(), m.to_string());
    let ty = match v.get("type").and_then(Value::as_str) {
        Some("string") => FieldType::String,
        Some("integer") => FieldType::Integer,
        Some("number") => FieldType::Number,
        Some("boolean") => FieldType::Boolean,
        Some("object") => FieldType::Object,
        Some("array") => FieldType::Array,
        Some(other) => return Err(err(&format!("unsupported type `{other}`"))),
        None if v.get("type").is_some_and(Value::is_array) => FieldType::Any,
        None => return Err(err("missing `type`")),
    };
    let mut properties = Vec::new();
    if let Some(props) = v.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            properties.push((name.clone(), node(p, &format!("{at}.{name}"))?));
        }
    }
    let required = v
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    // `true`/`false` (any key, or none) add no schema: only a schema types free keys.
    let additional = match v.get("additionalProperties") {
        Some(a) if a.is_object() => Some(Box::new(node(a, &format!("{at}.*"))?)),
        _ => None,
    };
    let items = match v.get("items") {
        Some(i) => Some(Box::new(node(i, &format!("{at}[]"))?)),
        None if ty == FieldType::Array => return Err(err("an array needs `items`")),
        None => None,
    };
    let unit = match v.get("x-unit").and_then(Value::as_str) {
        Some(u) => Some(Unit::parse(u).ok_or_else(|| err(&format!("unknown unit `{u}`")))?),
        None => None,
    };
    let pii = match v.get("x-pii").and_then(Value::as_str) {
        Some(p) => Some(Pii::parse(p).ok_or_else(|| err(&format!("unknown x-pii `{p}`")))?),
        None => None,
    };
    let minimum = v
        .get("minimum")
        .and_then(|m| crate::money::parse_decimal(&m.to_string()));
    Ok(SchemaNode {
        ty,
        properties,
        required,
        additional,
        items,
        constant: v.get("const").cloned(),
        allowed: v.get("enum").and_then(Value::as_array).cloned(),
        unit,
        pii,
        minimum,
        limits: crate::limits::Limits::from_schema(v).map_err(|m| err(&m))?,
        description: v
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}
