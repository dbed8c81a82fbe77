//! From a JSON pointer back to a line: reports point at the offending object, and error messages at
//! the offending value, without keeping positions for every value of every file.

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Line and column where the value at `pointer` starts in the JSON `text`, if it is there. Array
/// indexes are read in their plain decimal form (RFC 6901: no leading zeros).
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    locate_many(text, &[pointer]).pop().flatten()
}

/// The positions of several pointers in `text`, in one pass: a report places thousands of findings
/// in the same few files, and locating each pointer from the start would read a file once per
/// finding. Each entry is what [`locate`] gives for that pointer.
pub fn locate_many(text: &str, pointers: &[&str]) -> Vec<Option<(usize, usize)>> {
    #[derive(Default)]
    struct Node {
        children: std::collections::HashMap<String, Node>,
        wanted: Vec<usize>,
    }
    // Marks where each wanted pointer's value starts; returns early once every child is found.
    fn walk(text: &str, pos: usize, node: &Node, out: &mut [Option<usize>]) -> Option<()> {
        let bytes = text.as_bytes();
        for &w in &node.wanted {
            out[w] = Some(pos);
        }
        if node.children.is_empty() {
            return Some(());
        }
        let mut left = node.children.len();
        match bytes.get(pos)? {
            b'{' => {
                let mut pos = skip_ws(bytes, pos + 1);
                while bytes.get(pos)? != &b'}' && left > 0 {
                    let key_end = skip_string(bytes, pos)?;
                    let key: String = serde_json::from_str(text.get(pos..key_end)?).ok()?;
                    pos = skip_ws(bytes, key_end);
                    if bytes.get(pos)? != &b':' {
                        return None;
                    }
                    pos = skip_ws(bytes, pos + 1);
                    if let Some(child) = node.children.get(&key) {
                        walk(text, pos, child, out);
                        left -= 1;
                    }
                    pos = skip_ws(bytes, skip_value(bytes, pos)?);
                    if bytes.get(pos)? == &b',' {
                        pos = skip_ws(bytes, pos + 1);
                    }
                }
            }
            b'[' => {
                let mut pos = skip_ws(bytes, pos + 1);
                let mut index = 0usize;
                while bytes.get(pos)? != &b']' && left > 0 {
                    if let Some(child) = node.children.get(&index.to_string()) {
                        walk(text, pos, child, out);
                        left -= 1;
                    }
                    pos = skip_ws(bytes, skip_value(bytes, pos)?);
                    if bytes.get(pos)? == &b',' {
                        pos = skip_ws(bytes, pos + 1);
                    }
                    index += 1;
                }
            }
            _ => {}
        }
        Some(())
    }
    let mut root = Node::default();
    for (i, pointer) in pointers.iter().enumerate() {
        let mut node = &mut root;
        if !pointer.is_empty() {
            let Some(rest) = pointer.strip_prefix('/') else {
                continue;
            };
            for seg in rest.split('/') {
                let seg = unescape_segment(seg);
                // An array index is matched in its plain decimal form (as RFC 6901 writes it and
                // policies print it).
                node = node.children.entry(seg).or_default();
            }
        }
        node.wanted.push(i);
    }
    let mut offsets = vec![None; pointers.len()];
    walk(text, skip_ws(text.as_bytes(), 0), &root, &mut offsets);
    // Lines counted once, front to back, over the offsets in order.
    let mut order: Vec<(usize, usize)> = offsets
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.map(|o| (o, i)))
        .collect();
    order.sort_unstable();
    let bytes = text.as_bytes();
    let mut out = vec![None; pointers.len()];
    let (mut at, mut line, mut line_start) = (0usize, 1usize, 0usize);
    for (offset, i) in order {
        for (k, b) in bytes[at..offset].iter().enumerate() {
            if *b == b'\n' {
                line += 1;
                line_start = at + k + 1;
            }
        }
        at = offset;
        let col = String::from_utf8_lossy(&bytes[line_start..offset])
            .chars()
            .count()
            + 1;
        out[i] = Some((line, col));
    }
    out
}

/// The JSON pointer of the innermost value of `text` that holds byte `offset`: for errors that
/// give a position but no path (serde's "unknown variant" or "missing field" while deserializing
/// into a type). `None` when `offset` is outside the document's value or the text is not JSON up
/// to there. An offset on a member's key (or its colon) is that member's.
pub fn pointer_at(text: &str, offset: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    if offset < pos || offset >= skip_value(bytes, pos)? {
        return None;
    }
    let mut pointer = String::new();
    // Down one level per turn (a loop, so deep nesting cannot overflow the stack).
    'down: loop {
        let open = *bytes.get(pos)?;
        if open != b'{' && open != b'[' {
            return Some(pointer);
        }
        let mut at = skip_ws(bytes, pos + 1);
        let mut index = 0usize;
        while !matches!(bytes.get(at)?, b'}' | b']') {
            let member_start = at;
            let mut segment = index.to_string();
            if open == b'{' {
                let key_end = skip_string(bytes, at)?;
                let key: String = serde_json::from_str(text.get(at..key_end)?).ok()?;
                segment = escape_segment(&key);
                at = skip_ws(bytes, key_end);
                if bytes.get(at)? != &b':' {
                    return None;
                }
                at = skip_ws(bytes, at + 1);
            }
            let value_end = skip_value(bytes, at)?;
            if (member_start..value_end).contains(&offset) {
                pointer.push('/');
                pointer.push_str(&segment);
                if offset < at {
                    return Some(pointer);
                }
                pos = at;
                continue 'down;
            }
            at = skip_ws(bytes, value_end);
            if bytes.get(at)? == &b',' {
                at = skip_ws(bytes, at + 1);
            }
            index += 1;
        }
        // Between members, or on the closing bracket: the container itself.
        return Some(pointer);
    }
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

/// End (exclusive) of the string starting at `pos`.
fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    if bytes.get(pos)? != &b'"' {
        return None;
    }
    let mut i = pos + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// End (exclusive) of the value starting at `pos`; iterative, so deep nesting cannot overflow.
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            // A scalar runs until a delimiter.
            let mut i = pos;
            while let Some(b) = bytes.get(i) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

/// A member name as one segment of a JSON pointer (RFC 6901: `~` is `~0`, `/` is `~1`).
pub fn escape_segment(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The member name a JSON pointer segment stands for (the inverse of [`escape_segment`]).
pub fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"a\": 1,\n  \"b/c\": {\"x\": [10, {\"y\": \"}]\\\"\"}, [3]]},\n  \"d\": [\n    {\"e\": true},\n    {\"e\": false}\n  ]\n}";

    #[test]
    fn finds_values_by_pointer() {
        assert_eq!(locate(DOC, ""), Some((1, 1)));
        assert_eq!(locate(DOC, "/a"), Some((2, 8)));
        assert_eq!(locate(DOC, "/b~1c/x/1"), Some((3, 21)));
        assert_eq!(locate(DOC, "/b~1c/x/2/0"), Some((3, 37)));
        assert_eq!(locate(DOC, "/d/1"), Some((6, 5)));
        assert_eq!(locate(DOC, "/d/1/e"), Some((6, 11)));
    }

    #[test]
    fn missing_or_malformed_gives_none() {
        assert_eq!(locate(DOC, "/zz"), None);
        assert_eq!(locate(DOC, "/d/7"), None);
        assert_eq!(locate(DOC, "/d/01"), None, "no leading zeros (RFC 6901)");
        assert_eq!(locate(DOC, "/a/b"), None);
        assert_eq!(locate("{\"a\": [1, 2", "/a/5"), None);
        assert_eq!(locate("not json", "/a"), None);
    }

    #[test]
    fn many_pointers_in_one_pass_agree_with_one_at_a_time() {
        let pointers = [
            "",
            "/a",
            "/b~1c/x/1",
            "/b~1c/x/2/0",
            "/d/1",
            "/d/1/e",
            "/d/0",
            "/zz",
            "/d/7",
            "/a/b",
            "/d/1",
        ];
        let many = locate_many(DOC, &pointers);
        for (p, got) in pointers.iter().zip(many) {
            assert_eq!(got, locate(DOC, p), "{p}");
        }
        assert_eq!(locate_many("not json", &["/a", ""]), [None, Some((1, 1))]);
    }

    #[test]
    fn the_pointer_at_an_offset_is_the_innermost_value_there() {
        let at = |needle: &str| DOC.find(needle).expect("in DOC");
        assert_eq!(pointer_at(DOC, 0).as_deref(), Some(""));
        assert_eq!(pointer_at(DOC, at("1,")).as_deref(), Some("/a"));
        assert_eq!(
            pointer_at(DOC, at("\"b/c\"")).as_deref(),
            Some("/b~1c"),
            "on the key"
        );
        assert_eq!(pointer_at(DOC, at("10")).as_deref(), Some("/b~1c/x/0"));
        assert_eq!(
            pointer_at(DOC, at("\"}]")).as_deref(),
            Some("/b~1c/x/1/y"),
            "brackets in a string"
        );
        assert_eq!(pointer_at(DOC, at("3]")).as_deref(), Some("/b~1c/x/2/0"));
        assert_eq!(pointer_at(DOC, at("false")).as_deref(), Some("/d/1/e"));
        assert_eq!(
            pointer_at(DOC, at("false}") + 5).as_deref(),
            Some("/d/1"),
            "the closing brace"
        );
        assert_eq!(pointer_at(DOC, DOC.len()), None);
        assert_eq!(pointer_at("{\"a\": [1, 2", 8), None, "truncated");
        // Deep nesting is walked without recursion.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(pointer_at(&deep, 3).map(|p| p.len()), Some(3 * 2));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("é\"x".as_bytes(), 3), (1, 3));
    }
}
