package dfbmodels.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the Python literals a {@code .npy} header is written in: dicts, tuples, lists, strings,
 * integers, {@code True}, {@code False} and {@code None}. Dicts become {@link Map}s, tuples and
 * lists {@link List}s, integers {@link Long}s.
 */
final class PythonLiteral {

    private final String text;
    private final Map<Object, String> sources = new LinkedHashMap<>();
    private int at;
    private int depth;

    PythonLiteral(String text) {
        this.text = text;
    }

    /**
     * Parses the whole text as one literal.
     *
     * @throws IllegalArgumentException saying where the text is not a literal
     */
    Object parse() {
        Object value = value();
        skipSpace();
        if (at != text.length()) {
            throw error("unexpected text after the literal");
        }
        return value;
    }

    private Object value() {
        skipSpace();
        if (at >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(at);
        switch (c) {
            case '{':
                return dict();
            case '(':
                return sequence(')');
            case '[':
                return sequence(']');
            case '\'':
            case '"':
                return string(c);
            default:
                if (c == '-' || Character.isDigit(c)) {
                    return integer();
                }
                for (String word : new String[] {"True", "False", "None"}) {
                    if (text.startsWith(word, at)) {
                        at += word.length();
                        return "None".equals(word) ? null : Boolean.valueOf("True".equals(word));
                    }
                }
                throw error("unexpected '" + c + "'");
        }
    }

    private Map<Object, Object> dict() {
        Map<Object, Object> map = new LinkedHashMap<>();
        at++;
        while (true) {
            skipSpace();
            if (peek() == '}') {
                at++;
                return map;
            }
            Object key = value();
            skipSpace();
            expect(':');
            if (map.containsKey(key)) {
                throw error("key " + key + " appears twice");
            }
            skipSpace();
            int start = at;
            depth++;
            map.put(key, value());
            depth--;
            if (depth == 0) {
                sources.put(key, text.substring(start, at));
            }
            skipSpace();
            if (peek() == ',') {
                at++;
            } else if (peek() != '}') {
                throw error("expected ',' or '}'");
            }
        }
    }

    /**
     * Returns the source text of a value of the outermost dict, as written.
     *
     * @param key the value's key
     */
    String source(Object key) {
        return sources.get(key);
    }

    private List<Object> sequence(char close) {
        List<Object> list = new ArrayList<>();
        at++;
        while (true) {
            skipSpace();
            if (peek() == close) {
                at++;
                return list;
            }
            list.add(value());
            skipSpace();
            if (peek() == ',') {
                at++;
            } else if (peek() != close) {
                throw error("expected ',' or '" + close + "'");
            }
        }
    }

    private String string(char quote) {
        StringBuilder sb = new StringBuilder();
        at++;
        while (at < text.length() && text.charAt(at) != quote) {
            char c = text.charAt(at++);
            if (c == '\\' && at < text.length()) {
                c = text.charAt(at++);
            }
            sb.append(c);
        }
        expect(quote);
        return sb.toString();
    }

    private Long integer() {
        int start = at;
        if (peek() == '-') {
            at++;
        }
        while (at < text.length() && Character.isDigit(text.charAt(at))) {
            at++;
        }
        String digits = text.substring(start, at);
        // Python 2's numpy wrote long sizes with an L suffix
        if (peek() == 'L') {
            at++;
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw error("'" + digits + "' is not an integer");
        }
    }

    private char peek() {
        return at < text.length() ? text.charAt(at) : '\0';
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        at++;
    }

    private void skipSpace() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at character " + at);
    }
}
