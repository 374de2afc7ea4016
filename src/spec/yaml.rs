//! A YAML document as a tree of nodes that remember where they are in the file, so every
//! error and warning about the spec can name its line and column.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Maximum number of nodes a document may expand to. Aliases copy the anchored node, so a
/// small file can otherwise expand without bound.
const MAX_NODES: usize = 100_000;

/// Position of a node: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A YAML node and the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub start: Position,
    /// Last line the node covers.
    pub end_line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar as written; `plain` is false when it was quoted or a block scalar.
    Scalar {
        value: String,
        plain: bool,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: Position,
    pub message: String,
}

impl Node {
    /// Returns the kind's name as messages use it: `a string`, `a list`, `a mapping`.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { value, plain } if *plain && is_null(value) => "null",
            NodeKind::Scalar { value, plain } if *plain && value.parse::<f64>().is_ok() => {
                "a number"
            }
            NodeKind::Scalar { value, plain }
                if *plain && (value == "true" || value == "false") =>
            {
                "a boolean"
            }
            NodeKind::Scalar { .. } => "a string",
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
        }
    }

    /// Returns the scalar's text, or `None` for lists and mappings.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Returns true for an empty plain scalar, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true } if is_null(value))
    }
}

fn is_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

fn position(marker: &Marker) -> Position {
    Position {
        line: marker.line() as u32,
        column: marker.col() as u32 + 1,
    }
}

/// Parses the first document of `text`. Returns `Ok(None)` for a file without a document
/// (empty, or comments only).
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = TreeBuilder {
        parser: Parser::new_from_str(text),
        chars: text.chars().collect(),
        anchors: Vec::new(),
        nodes: 0,
    };
    let mut document = None;
    loop {
        let (event, marker) = builder.next()?;
        match event {
            Event::StreamEnd => return Ok(document),
            Event::DocumentStart if document.is_some() => {
                return Err(SyntaxError {
                    position: position(&marker),
                    message: "a second YAML document (`---`) in the file".to_owned(),
                });
            }
            Event::DocumentStart => {
                let (event, marker) = builder.next()?;
                document = Some(builder.node(event, marker)?);
            }
            _ => {}
        }
    }
}

struct TreeBuilder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    /// The text, for placing empty values; markers count characters.
    chars: Vec<char>,
    /// Anchored nodes by anchor ID; IDs start at 1.
    anchors: Vec<Option<Node>>,
    nodes: usize,
}

impl TreeBuilder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), SyntaxError> {
        self.parser.next_token().map_err(|error| SyntaxError {
            position: position(error.marker()),
            message: error.info().to_owned(),
        })
    }

    /// Returns the position just after the last non-blank character before `marker`, on a
    /// line that is not only a comment: where an empty value (`key:` or `-` with nothing
    /// after it) is.
    fn after_previous_text(&self, marker: &Marker) -> Position {
        let mut end = marker.index().min(self.chars.len());
        loop {
            let Some(last) = self.chars[..end].iter().rposition(|c| !c.is_whitespace()) else {
                return position(marker);
            };
            let line_start = self.chars[..last]
                .iter()
                .rposition(|&c| c == '\n')
                .map_or(0, |i| i + 1);
            let first = self.chars[line_start..=last]
                .iter()
                .position(|c| !c.is_whitespace());
            let first_char = first.map(|offset| self.chars[line_start + offset]);
            let line = self.chars[..last].iter().filter(|&&c| c == '\n').count() + 1;
            // A comment line, or the dash of the next list item on the marker's own line.
            let next_item = first_char == Some('-')
                && first.map(|offset| line_start + offset) == Some(last)
                && line == marker.line();
            if first_char == Some('#') || next_item {
                end = line_start;
                continue;
            }
            return Position {
                line: line as u32,
                column: (last - line_start + 2) as u32,
            };
        }
    }

    fn count(&mut self, count: usize, at: &Marker) -> Result<(), SyntaxError> {
        self.nodes += count;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                position: position(at),
                message: format!("the document expands to more than {MAX_NODES} YAML nodes"),
            });
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(node.clone());
    }

    /// Builds the node that starts with `event`, reading the events of its children.
    fn node(&mut self, event: Event, marker: Marker) -> Result<Node, SyntaxError> {
        self.count(1, &marker)?;
        let start = position(&marker);
        let node = match event {
            Event::Scalar(value, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
                // An empty value is reported at the next token, which may be lines below.
                let start = if plain && value.is_empty() {
                    self.after_previous_text(&marker)
                } else {
                    start
                };
                let node = Node {
                    kind: NodeKind::Scalar { value, plain },
                    start,
                    end_line: start.line,
                };
                self.remember(anchor, &node);
                node
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let end_line = loop {
                    let (event, marker) = self.next()?;
                    if event == Event::SequenceEnd {
                        break last_line(&items, start.line);
                    }
                    items.push(self.node(event, marker)?);
                };
                let node = Node {
                    kind: NodeKind::Sequence(items),
                    start,
                    end_line,
                };
                self.remember(anchor, &node);
                node
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                let end_line = loop {
                    let (event, marker) = self.next()?;
                    if event == Event::MappingEnd {
                        let values: Vec<Node> =
                            entries.iter().map(|(_, value)| value.clone()).collect();
                        break last_line(&values, start.line);
                    }
                    let key = self.node(event, marker)?;
                    let (event, marker) = self.next()?;
                    let value = self.node(event, marker)?;
                    entries.push((key, value));
                };
                let node = Node {
                    kind: NodeKind::Mapping(entries),
                    start,
                    end_line,
                };
                self.remember(anchor, &node);
                node
            }
            Event::Alias(anchor) => {
                let node =
                    self.anchors
                        .get(anchor)
                        .cloned()
                        .flatten()
                        .ok_or_else(|| SyntaxError {
                            position: start,
                            message: "alias to an unknown anchor".to_owned(),
                        })?;
                self.count(count_nodes(&node), &marker)?;
                Node { start, ..node }
            }
            other => {
                return Err(SyntaxError {
                    position: start,
                    message: format!("unexpected YAML event {other:?}"),
                })
            }
        };
        Ok(node)
    }
}

/// Returns the last line of a collection: its last child's, else its first. The end event
/// of a block collection comes with the next token, which may be lines further down.
fn last_line(children: &[Node], start: u32) -> u32 {
    children
        .last()
        .map_or(start, |child| child.end_line)
        .max(start)
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Scalar { .. } => 0,
        NodeKind::Sequence(items) => items.iter().map(count_nodes).sum(),
        NodeKind::Mapping(entries) => entries
            .iter()
            .map(|(k, v)| count_nodes(k) + count_nodes(v))
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(node: &Node) -> &[(Node, Node)] {
        match &node.kind {
            NodeKind::Mapping(entries) => entries,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    #[test]
    fn positions_of_keys_and_items() {
        let text = "name: demo\ndependencies:\n  - python=3.12\n  - numpy\nchannels: [a, b]\n";
        let root = parse(text).unwrap().unwrap();
        let entries = mapping(&root);
        assert_eq!(entries[0].0.start, Position { line: 1, column: 1 });
        assert_eq!(entries[1].1.start.line, 3);
        assert_eq!(entries[1].1.end_line, 4);
        let NodeKind::Sequence(items) = &entries[1].1.kind else {
            panic!()
        };
        assert_eq!(items[1].start, Position { line: 4, column: 5 });
        assert_eq!(entries[2].1.end_line, 5);
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let root = parse("a: '3'\nb: 3\n").unwrap().unwrap();
        let entries = mapping(&root);
        assert_eq!(entries[0].1.describe(), "a string");
        assert_eq!(entries[1].1.describe(), "a number");
    }

    #[test]
    fn comments_only_is_no_document() {
        assert_eq!(parse("# nothing\n\n").unwrap(), None);
    }

    #[test]
    fn syntax_error_position() {
        let error = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.position.line >= 1, "{error:?}");
    }

    #[test]
    fn aliases_expand() {
        let root = parse("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        let entries = mapping(&root);
        assert_eq!(entries[1].1.kind, entries[0].1.kind);
        assert_eq!(entries[1].1.start.line, 2);
    }

    #[test]
    fn alias_bomb_rejected() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = level - 1;
            let items = vec![format!("*a{previous}"); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let error = parse(&text).unwrap_err();
        assert!(
            error.message.contains("more than 100000 YAML nodes"),
            "{error:?}"
        );
    }

    #[test]
    fn empty_values_at_their_own_line() {
        let root = parse("a:\n  - x\n  -\n  - y\n\n# a comment\nb:\n")
            .unwrap()
            .unwrap();
        let entries = mapping(&root);
        let NodeKind::Sequence(items) = &entries[0].1.kind else {
            panic!()
        };
        assert_eq!(items[1].start.line, 3);
        assert_eq!(entries[1].1.start.line, 7);
        assert_eq!(entries[1].1.end_line, 7);
    }

    #[test]
    fn second_document_rejected() {
        let error = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(error.position.line, 2);
    }
}
