package dfbmodels.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a weights load did, tensor by tensor: which parameters it wrote, which tensors of the file
 * it skipped and why, which parameters it left untouched and which key prefixes it stripped.
 *
 * <p>Returned by {@link TorchWeights#load(ai.djl.nn.Block, Path, boolean)}, which also logs its
 * {@link #summary()} (INFO) and, for a non-strict load that skipped or left out anything, what
 * (WARN).
 */
public final class LoadReport {

    /** What became of one tensor of the file. */
    public enum Outcome {
        /** Copied whole into the parameter of the same key (converted to its type). */
        LOADED,
        /**
         * Skipped: an entry the original keeps but the computation does not use ({@code T}, {@code
         * layernorm_weight}, {@code error_head.T}, {@code error_head.Qinv}, {@code
         * *.num_batches_tracked}).
         */
        UNUSED,
        /**
         * Skipped: an alias of a parameter that was loaded under its primary key ({@code
         * frontend.0.*} beside {@code conv1.*}, {@code frontend.1.*} beside {@code bn1.*}, {@code
         * classification_head.2.*} beside {@code fc.*}).
         */
        ALIAS,
        /** Skipped: no parameter has this key (only in a non-strict load; a strict one fails). */
        UNEXPECTED
    }

    /**
     * One tensor of the file and what became of it.
     *
     * @param fileKey the tensor's key as written in the file
     * @param parameterKey the key of the parameter it maps to (after stripping prefixes and
     *     resolving aliases), or null if it maps to none
     * @param outcome what the load did with it
     */
    public record Entry(String fileKey, String parameterKey, Outcome outcome) {

        /**
         * Checks the arguments.
         *
         * @param fileKey the tensor's key as written in the file
         * @param parameterKey the parameter's key, or null
         * @param outcome what the load did with it
         * @throws NullPointerException if {@code fileKey} or {@code outcome} is null
         */
        public Entry {
            Objects.requireNonNull(fileKey, "fileKey");
            Objects.requireNonNull(outcome, "outcome");
        }
    }

    private final Path file;
    private final boolean strict;
    private final int parameterCount;
    private final List<Entry> entries;
    private final List<String> untouched;
    private final Map<String, Integer> strippedPrefixes;

    LoadReport(
            Path file,
            boolean strict,
            int parameterCount,
            List<Entry> entries,
            List<String> untouched,
            Map<String, Integer> strippedPrefixes) {
        this.file = file;
        this.strict = strict;
        this.parameterCount = parameterCount;
        this.entries = List.copyOf(entries);
        this.untouched = List.copyOf(untouched);
        this.strippedPrefixes = Collections.unmodifiableMap(new LinkedHashMap<>(strippedPrefixes));
    }

    /**
     * Returns the file that was loaded.
     *
     * @return the weights file
     */
    public Path file() {
        return file;
    }

    /**
     * Returns whether the load was strict (every parameter in the file, nothing unexpected).
     *
     * @return true for a strict load
     */
    public boolean isStrict() {
        return strict;
    }

    /**
     * Returns the number of parameters of the model.
     *
     * @return the number of parameters, loaded or not
     */
    public int parameterCount() {
        return parameterCount;
    }

    /**
     * Returns every tensor of the file with its outcome, in the order of the file's data.
     *
     * @return an unmodifiable list
     */
    public List<Entry> entries() {
        return entries;
    }

    /**
     * Returns the keys of the parameters written, in the order of the file's data.
     *
     * @return an unmodifiable list of parameter keys
     */
    public List<String> loaded() {
        List<String> keys = new ArrayList<>();
        for (Entry e : entries) {
            if (e.outcome() == Outcome.LOADED) {
                keys.add(e.parameterKey());
            }
        }
        return Collections.unmodifiableList(keys);
    }

    /**
     * Returns the tensors of the file that were not loaded, each with the reason.
     *
     * @return an unmodifiable list
     */
    public List<Entry> skipped() {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.outcome() != Outcome.LOADED) {
                out.add(e);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Returns the keys of the parameters the file had nothing for, which keep their values (always
     * empty after a strict load).
     *
     * @return an unmodifiable list of parameter keys, in the model's order
     */
    public List<String> untouched() {
        return untouched;
    }

    /**
     * Returns the standard prefixes stripped from the file's keys ({@code module.} of {@code
     * DataParallel}, {@code _orig_mod.} of {@code torch.compile}) with the number of keys each was
     * stripped from.
     *
     * @return an unmodifiable map, empty if no key had such a prefix
     */
    public Map<String, Integer> strippedPrefixes() {
        return strippedPrefixes;
    }

    /**
     * Returns one line: parameters loaded out of all, prefixes stripped, tensors skipped by reason.
     *
     * @return a summary such as {@code loaded 115 of 115 parameters from w.safetensors (strict);
     *     skipped 20 unused}
     */
    public String summary() {
        StringBuilder sb =
                new StringBuilder("loaded ")
                        .append(loaded().size())
                        .append(" of ")
                        .append(parameterCount)
                        .append(" parameters from ")
                        .append(file)
                        .append(strict ? " (strict)" : " (non-strict)");
        for (Map.Entry<String, Integer> p : strippedPrefixes.entrySet()) {
            sb.append("; stripped '")
                    .append(p.getKey())
                    .append("' from ")
                    .append(p.getValue())
                    .append(p.getValue() == 1 ? " key" : " keys");
        }
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        for (Entry e : skipped()) {
            counts.merge(e.outcome(), 1, Integer::sum);
        }
        if (!counts.isEmpty()) {
            sb.append("; skipped");
            String separator = " ";
            for (Map.Entry<Outcome, Integer> c : counts.entrySet()) {
                sb.append(separator)
                        .append(c.getValue())
                        .append(' ')
                        .append(c.getKey().name().toLowerCase(java.util.Locale.ROOT));
                separator = ", ";
            }
        }
        if (!untouched.isEmpty()) {
            sb.append("; left ").append(untouched.size()).append(" untouched");
        }
        return sb.toString();
    }

    /**
     * Returns the {@link #summary()} followed by every skipped tensor and untouched parameter.
     *
     * @return a multi-line description
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(summary());
        for (Entry e : skipped()) {
            sb.append("\n  skipped ").append(e.fileKey()).append(" (").append(e.outcome());
            if (e.parameterKey() != null) {
                sb.append(" of ").append(e.parameterKey());
            }
            sb.append(')');
        }
        for (String key : untouched) {
            sb.append("\n  untouched ").append(key);
        }
        return sb.toString();
    }
}
