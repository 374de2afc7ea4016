//! Prints the JSON schema of `environment.yml` to stdout, for editors with YAML schema
//! support. `schema/environment.schema.json` is its committed output, and `tests/schema.rs`
//! fails when the two differ.

use conda_frontend::spec::ImageSettings;
use schemars::generate::SchemaSettings;
use serde_json::{json, Value};

/// Builds the schema: conda's top-level keys written out here, and `image:` generated from
/// [`ImageSettings`] so that it follows the struct.
fn environment_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let image = generator.subschema_for::<ImageSettings>();
    let definitions = generator.take_definitions(true);

    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "environment.yml",
        "description": "A conda environment file, with an optional `image:` section for conda-frontend.",
        "type": "object",
        "properties": {
            "name": {
                "description": "Name of the environment.",
                "type": ["string", "null"]
            },
            "channels": {
                "description": "Channels in priority order: names, URLs or relative paths. `nodefaults` drops the defaults channels.",
                "type": ["array", "null"],
                "items": { "type": "string" }
            },
            "dependencies": {
                "description": "Conda match specs such as `numpy >=2.0`, and at most one `pip:` list.",
                "type": ["array", "null"],
                "items": {
                    "anyOf": [
                        { "type": "string" },
                        {
                            "type": "object",
                            "properties": {
                                "pip": {
                                    "description": "pip requirements and option lines such as `--extra-index-url URL`.",
                                    "type": "array",
                                    "items": { "type": "string" }
                                }
                            },
                            "additionalProperties": false
                        }
                    ]
                }
            },
            "variables": {
                "description": "Environment variables of the image.",
                "type": ["object", "null"],
                "additionalProperties": { "type": "string" }
            },
            "prefix": {
                "description": "Ignored with a warning: the environment is always installed at /env.",
                "type": ["string", "null"]
            },
            "image": {
                "anyOf": [image, { "type": "null" }]
            }
        },
        "$defs": definitions
    });
    accept_scalars_as_strings(&mut schema);
    schema
}

/// Widens every `"type": "string"` to also allow numbers and booleans, because the spec
/// reads any non-null scalar where it expects a string (`expose: [8000]`, `python: 3.12`).
fn accept_scalars_as_strings(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(types) = object.get_mut("type") {
                widen_string_type(types);
            }
            for child in object.values_mut() {
                accept_scalars_as_strings(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(accept_scalars_as_strings),
        _ => {}
    }
}

fn widen_string_type(types: &mut Value) {
    let scalars = ["string", "number", "boolean"];
    match types {
        Value::String(name) if name == "string" => *types = json!(scalars),
        Value::Array(names) if names.contains(&json!("string")) => {
            for scalar in &scalars[1..] {
                if !names.contains(&json!(scalar)) {
                    names.push(json!(scalar));
                }
            }
        }
        _ => {}
    }
}

fn main() {
    let schema = environment_schema();
    let text = serde_json::to_string_pretty(&schema).expect("a JSON value always serializes");
    println!("{text}");
}
