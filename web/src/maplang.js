// The highlighting of `.map` text: a CodeMirror stream language. The keywords and units
// are not listed here: the page gets them from the server (`/api/start`), which reads the
// language's lists (src/syntax/keywords.rs, held to the grammar by its test).
import { StreamLanguage } from "@codemirror/language";

// keywords: [{word, reserved}], units: ["yuan", …]. A reserved word is always a keyword; the others (`route`,
// `when`, `drop`) only when the next character that is not a blank is not `=`, `{` or `.`
// (a field may be called `drop`), as `is_keyword` in src/syntax/keywords.rs says.
export function mapLanguage(keywords, units) {
  const UNITS = new Set(units);
  const reserved = new Set(keywords.filter((k) => k.reserved).map((k) => k.word));
  const soft = new Set(keywords.filter((k) => !k.reserved).map((k) => k.word));
  return StreamLanguage.define({
    name: "bondmap",
    token(stream) {
      if (stream.eatSpace()) return null;
      if (stream.peek() === "#") {
        stream.skipToEnd();
        return "comment";
      }
      const quote = stream.peek();
      if (quote === '"' || quote === "'") {
        stream.next();
        let esc = false;
        while (!stream.eol()) {
          const c = stream.next();
          if (esc) esc = false;
          else if (c === "\\") esc = true;
          else if (c === quote) break;
        }
        return "string";
      }
      if (stream.match(/^\d+(\.\d+)?/)) return "number";
      // A path into the order: `$`, then names, `*`, `..` and brackets.
      if (stream.match(/^\$(\.\.?(\*|[\w\u0080-\uffff-]+)?|\[[^\]\n]*\])*/)) {
        return "variableName.special";
      }
      if (stream.match(/^[A-Za-z_]\w*/)) {
        const w = stream.current();
        if (w === "true" || w === "false" || w === "null") return "atom";
        if (reserved.has(w)) return "keyword";
        if (soft.has(w) && !stream.match(/^\s*[={.]/, false)) return "keyword";
        if (UNITS.has(w)) return "unit";
        if (stream.match(/^\s*\(/, false)) return "variableName.function";
        return "variableName";
      }
      if (stream.match(/^(\?\?|==|!=|<=|>=|=>|[<>+\-*\/=?])/)) return "operator";
      stream.next();
      return "punctuation";
    },
    languageData: { commentTokens: { line: "#" } },
  });
}
