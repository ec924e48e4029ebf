package dfbmodels.eval;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The result of a {@link RobustnessEvaluation}: one row per model, corruption, level and number of
 * iterations T, holding the metric's value (accuracy for classifiers, e.g. mean IoU for
 * segmenters). Plain data; {@link #writeCsv(Path)} writes it with the columns {@code model,
 * corruption, level, iterations, <metric>}.
 */
public final class RobustnessTable {

    /**
     * One cell of the evaluation.
     *
     * @param model the model's name
     * @param corruption the corruption's name ({@link Corruption#getName()})
     * @param level the corruption's level
     * @param iterations T (1 for a feedforward twin)
     * @param value the metric over the whole test set
     */
    public record Row(String model, String corruption, float level, int iterations, float value) {}

    private final String metric;
    private final List<Row> rows = new ArrayList<>();

    /**
     * Creates an empty table.
     *
     * @param metric the metric's column name, e.g. {@code accuracy}; not empty, no commas, quotes
     *     or line breaks
     * @throws IllegalArgumentException if the name is empty or has a comma, quote or line break
     */
    public RobustnessTable(String metric) {
        if (metric == null || metric.isEmpty() || metric.matches("(?s).*[,\"\\r\\n].*")) {
            throw new IllegalArgumentException(
                    "metric column name must be non-empty without commas, quotes or line breaks,"
                            + " got "
                            + metric);
        }
        this.metric = metric;
    }

    /**
     * Returns the metric's column name.
     *
     * @return the name
     */
    public String getMetric() {
        return metric;
    }

    /**
     * Appends a row.
     *
     * @param row the row
     * @return this table
     */
    public RobustnessTable add(Row row) {
        rows.add(row);
        return this;
    }

    /**
     * Appends every row of another table with the same metric, e.g. a feedforward twin's.
     *
     * @param other the other table
     * @return this table
     * @throws IllegalArgumentException if the other table has another metric
     */
    public RobustnessTable addAll(RobustnessTable other) {
        if (!other.metric.equals(metric)) {
            throw new IllegalArgumentException(
                    "cannot merge a table of " + other.metric + " into a table of " + metric);
        }
        rows.addAll(other.rows);
        return this;
    }

    /**
     * Returns the rows in the order they were added.
     *
     * @return an unmodifiable view
     */
    public List<Row> getRows() {
        return Collections.unmodifiableList(rows);
    }

    /**
     * Returns the value of one cell.
     *
     * @param model the model's name
     * @param corruption the corruption's name
     * @param level the level
     * @param iterations T
     * @return the metric's value
     * @throws IllegalArgumentException if the table has no such cell
     */
    public float get(String model, String corruption, float level, int iterations) {
        for (Row r : rows) {
            if (r.model().equals(model)
                    && r.corruption().equals(corruption)
                    && Float.compare(r.level(), level) == 0
                    && r.iterations() == iterations) {
                return r.value();
            }
        }
        throw new IllegalArgumentException(
                "no cell for model="
                        + model
                        + ", corruption="
                        + corruption
                        + ", level="
                        + level
                        + ", iterations="
                        + iterations);
    }

    /**
     * Returns the table as CSV (RFC 4180): a header {@code
     * model,corruption,level,iterations,<metric>} and one line per row; levels and values in plain
     * decimal notation ({@code 0.1}, not {@code 1.0E-1}), names quoted when they hold a comma,
     * quote or line break.
     *
     * @return the CSV text, lines ending in {@code \n}
     */
    public String toCsv() {
        StringBuilder sb = new StringBuilder();
        sb.append("model,corruption,level,iterations,").append(metric).append('\n');
        for (Row r : rows) {
            sb.append(quote(r.model()))
                    .append(',')
                    .append(quote(r.corruption()))
                    .append(',')
                    .append(plain(r.level()))
                    .append(',')
                    .append(r.iterations())
                    .append(',')
                    .append(plain(r.value()))
                    .append('\n');
        }
        return sb.toString();
    }

    /**
     * Writes {@link #toCsv()} to a file (UTF-8), creating its parent folders. The file is written
     * next to the target under a temporary name and then moved into place, so a failed write leaves
     * no partial file; it gets the permissions of any new file there (the umask's).
     *
     * @param path the file
     * @throws IOException if it cannot be written
     */
    public void writeCsv(Path path) throws IOException {
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // not createTempFile: its owner-only permissions would stay with the moved file
        Path tmp =
                dir.resolve(
                        "."
                                + target.getFileName()
                                + "."
                                + ProcessHandle.current().pid()
                                + "."
                                + Thread.currentThread().getId()
                                + ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write(toCsv());
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return toCsv();
    }

    private static String plain(float v) {
        if (Float.isNaN(v) || Float.isInfinite(v)) {
            return Float.toString(v);
        }
        return new BigDecimal(Float.toString(v)).stripTrailingZeros().toPlainString();
    }

    private static String quote(String s) {
        if (s.matches("(?s).*[,\"\\r\\n].*")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    static String columnName(String evaluatorName) {
        return evaluatorName.toLowerCase(Locale.ROOT).replaceAll("[,\"\\r\\n]", "_");
    }
}
