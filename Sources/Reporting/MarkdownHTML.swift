import Foundation

/// The small part of Markdown that fmridyn writes itself (`methods.md`): headings, paragraphs,
/// `- ` lists, `**bold**` and `` `code` ``, as HTML for the report. Text is escaped first, so
/// nothing in it can become markup other than these.
public enum MarkdownHTML {
    /// - Parameter skipTitle: drop a leading `# ` heading (the report's section has its own).
    public static func render(_ markdown: String, skipTitle: Bool = true) -> String {
        var html = "", paragraph: [String] = [], list: [String] = []
        func flush() {
            if !paragraph.isEmpty { html += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>" }
            if !list.isEmpty { html += "<ul>" + list.map { "<li>" + inline($0) + "</li>" }.joined() + "</ul>" }
            paragraph = []
            list = []
        }
        var first = true
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            defer { if !line.isEmpty { first = false } }
            if line.isEmpty { flush(); continue }
            if line.hasPrefix("#") {
                flush()
                let level = line.prefix { $0 == "#" }.count
                if level == 1, first, skipTitle { continue }
                let text = line.dropFirst(level).trimmingCharacters(in: .whitespaces)
                let tag = "h\(min(level + 2, 6))"
                html += "<\(tag)>" + inline(text) + "</\(tag)>"
            } else if line.hasPrefix("- ") {
                if !paragraph.isEmpty { flush() }  // the list is empty here: a paragraph line flushed it
                list.append(String(line.dropFirst(2)))
            } else {
                if !list.isEmpty { flush() }
                paragraph.append(line)
            }
        }
        flush()
        return html
    }

    /// `**bold**` and `` `code` `` within escaped text (unpaired markers stay as written).
    static func inline(_ text: String) -> String {
        var result = escapeHTML(text)
        for (marker, tag) in [("**", "strong"), ("`", "code")] {
            var parts = result.components(separatedBy: marker)
            guard parts.count >= 3 else { continue }
            var rebuilt = parts.removeFirst()
            var open = true
            while parts.count >= 2 || (!open && parts.count >= 1) {
                let part = parts.removeFirst()
                rebuilt += (open ? "<\(tag)>" : "</\(tag)>") + part
                open.toggle()
            }
            if !parts.isEmpty { rebuilt += marker + parts.joined(separator: marker) }
            result = rebuilt
        }
        return result
    }
}
