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
 * (WARN); and by {@link TorchWeights#loadBackbone(ai.djl.nn.Block, Path, BackboneOptions)}, whose
 * report also says which tensors were copied as a slice ({@link Outcome#SLICED}), which were
 * skipped because the model has no place for them ({@link Outcome#SKIPPED}, with the reason in
 * {@link Entry#detail()}), which parameters the load initialised by a rule ({@link #initialised()})
 * and which it froze ({@link #frozen()}); it logs all of that (INFO).
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
        UNEXPECTED,
        /**
         * Copied in part ({@link TorchWeights#loadBackbone(ai.djl.nn.Block, Path, BackboneOptions)
         * backbone loads} only): into the leading slice of a parameter the feedback widens (the
         * rest keeps the model's initialisation, and the feedback inputs of the copied outputs are
         * zeroed by option), or a part of the tensor into the whole parameter (torchvision's ViT
         * position embedding without the class token's row, a head's first rows); a head of fewer
         * classes goes into the model head's first rows. {@link Entry#detail()} says which part
         * went where.
         */
        SLICED,
        /**
         * Skipped because the model has no place for it ({@link TorchWeights#loadBackbone(
         * ai.djl.nn.Block, Path, BackboneOptions) backbone loads} only): a class token, a head that
         * reads it, a head in a model without one, an entry that is not part of the backbone's
         * {@code state_dict}. {@link Entry#detail()} says why.
         */
        SKIPPED
    }

    /**
     * One tensor of the file and what became of it.
     *
     * @param fileKey the tensor's key as written in the file
     * @param parameterKey the key of the parameter it maps to (after stripping prefixes and
     *     resolving aliases), or null if it maps to none
     * @param outcome what the load did with it
     * @param detail for {@link Outcome#SLICED}, which part went where; for {@link Outcome#SKIPPED},
     *     why; otherwise null
     */
    public record Entry(String fileKey, String parameterKey, Outcome outcome, String detail) {

        /**
         * Checks the arguments.
         *
         * @param fileKey the tensor's key as written in the file
         * @param parameterKey the parameter's key, or null
         * @param outcome what the load did with it
         * @param detail the part copied or the reason for skipping, or null
         * @throws NullPointerException if {@code fileKey} or {@code outcome} is null
         */
        public Entry {
            Objects.requireNonNull(fileKey, "fileKey");
            Objects.requireNonNull(outcome, "outcome");
        }

        /**
         * An entry without detail.
         *
         * @param fileKey the tensor's key as written in the file
         * @param parameterKey the parameter's key, or null
         * @param outcome what the load did with it
         * @throws NullPointerException if {@code fileKey} or {@code outcome} is null
         */
        public Entry(String fileKey, String parameterKey, Outcome outcome) {
            this(fileKey, parameterKey, outcome, null);
        }
    }

    private final Path file;
    private final boolean strict;
    private final int parameterCount;
    private final List<Entry> entries;
    private final List<String> untouched;
    private final Map<String, Integer> strippedPrefixes;
    private final String backbone;
    private final Map<String, String> initialised;
    private final List<String> frozen;

    LoadReport(
            Path file,
            boolean strict,
            int parameterCount,
            List<Entry> entries,
            List<String> untouched,
            Map<String, Integer> strippedPrefixes) {
        this(
                file,
                strict,
                null,
                parameterCount,
                entries,
                untouched,
                strippedPrefixes,
                Map.of(),
                List.of());
    }

    LoadReport(
            Path file,
            boolean strict,
            String backbone,
            int parameterCount,
            List<Entry> entries,
            List<String> untouched,
            Map<String, Integer> strippedPrefixes,
            Map<String, String> initialised,
            List<String> frozen) {
        this.file = file;
        this.strict = strict;
        this.backbone = backbone;
        this.parameterCount = parameterCount;
        this.entries = List.copyOf(entries);
        this.untouched = List.copyOf(untouched);
        this.strippedPrefixes = Collections.unmodifiableMap(new LinkedHashMap<>(strippedPrefixes));
        this.initialised = Collections.unmodifiableMap(new LinkedHashMap<>(initialised));
        this.frozen = List.copyOf(frozen);
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
     * Returns whether the load was strict (every parameter in the file, nothing unexpected); a
     * backbone load is not.
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
     * Returns the keys of the parameters written whole from the file ({@link Outcome#LOADED}), in
     * the order of the file's data.
     *
     * @return an unmodifiable list of parameter keys
     */
    public List<String> loaded() {
        return parameters(Outcome.LOADED);
    }

    /**
     * Returns the keys of the parameters written in part, or from a part of a tensor ({@link
     * Outcome#SLICED}; backbone loads only), in the order of the file's data.
     *
     * @return an unmodifiable list of parameter keys
     */
    public List<String> sliced() {
        return parameters(Outcome.SLICED);
    }

    private List<String> parameters(Outcome outcome) {
        List<String> keys = new ArrayList<>();
        for (Entry e : entries) {
            if (e.outcome() == outcome) {
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
            if (e.outcome() != Outcome.LOADED && e.outcome() != Outcome.SLICED) {
                out.add(e);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Returns the keys of the parameters the file had nothing for, which keep their values (always
     * empty after a strict load; after a backbone load, the parameters left as the model
     * initialised them, such as the state operator's and the new head's).
     *
     * @return an unmodifiable list of parameter keys, in the model's order
     */
    public List<String> untouched() {
        return untouched;
    }

    /**
     * Returns the torchvision architecture of a backbone load, as the model's parameters imply it.
     *
     * @return e.g. {@code "torchvision resnet18 (BasicBlock [2, 2, 2, 2], 3 input channels)"}, or
     *     null for {@link TorchWeights#load(ai.djl.nn.Block, Path, boolean)}
     */
    public String backbone() {
        return backbone;
    }

    /**
     * Returns the parameters a backbone load set by a rule rather than from the file, with the
     * rule: the pretrained network's identity where the feedback model has a layer the backbone
     * lacks (the feedback ResNet18/34's {@code layer1.0.downsample}, the ViT's {@code input_proj},
     * and its {@code state_proj} when the class channels are the token width).
     *
     * @return an unmodifiable map from parameter key to the rule, in the model's order; empty for
     *     other loads
     */
    public Map<String, String> initialised() {
        return initialised;
    }

    /**
     * Returns the parameters a backbone load froze ({@link BackboneOptions.Builder#optFreeze}): the
     * trainable ones whose every value came from the file, except the classification head
     * (BatchNorm running statistics, never trained, are not listed).
     *
     * @return an unmodifiable list of parameter keys, in the model's order; empty if nothing was
     *     frozen
     */
    public List<String> frozen() {
        return frozen;
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
     * Returns one line: parameters loaded out of all, prefixes stripped, tensors skipped by reason;
     * for a backbone load, parameters copied whole, as slices, initialised by rule, left as
     * initialised and frozen.
     *
     * @return a summary such as {@code loaded 115 of 115 parameters from w.safetensors (strict);
     *     skipped 20 unused}
     */
    public String summary() {
        StringBuilder sb = new StringBuilder("loaded ");
        if (backbone != null) {
            sb.append(backbone)
                    .append(" from ")
                    .append(file)
                    .append(": ")
                    .append(loaded().size())
                    .append(" of ")
                    .append(parameterCount)
                    .append(" parameters copied whole, ")
                    .append(sliced().size())
                    .append(" as slices, ")
                    .append(initialised.size())
                    .append(" initialised by rule, ")
                    .append(untouched.size())
                    .append(" left as initialised");
            if (!frozen.isEmpty()) {
                sb.append("; froze ").append(frozen.size());
            }
        } else {
            sb.append(loaded().size())
                    .append(" of ")
                    .append(parameterCount)
                    .append(" parameters from ")
                    .append(file)
                    .append(strict ? " (strict)" : " (non-strict)");
        }
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
                        .append(
                                c.getKey() == Outcome.SKIPPED
                                        ? "with no place in the model"
                                        : c.getKey().name().toLowerCase(java.util.Locale.ROOT));
                separator = ", ";
            }
        }
        if (backbone == null && !untouched.isEmpty()) {
            sb.append("; left ").append(untouched.size()).append(" untouched");
        }
        return sb.toString();
    }

    /**
     * Returns the {@link #summary()} followed by every skipped tensor and untouched parameter; for
     * a backbone load also every tensor copied as a slice (which part went where) and every
     * parameter initialised by a rule.
     *
     * @return a multi-line description
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(summary());
        for (Entry e : entries) {
            if (e.outcome() == Outcome.SLICED) {
                sb.append("\n  sliced ")
                        .append(e.fileKey())
                        .append(" -> ")
                        .append(e.parameterKey())
                        .append(": ")
                        .append(e.detail());
            }
        }
        for (Map.Entry<String, String> e : initialised.entrySet()) {
            sb.append("\n  initialised ").append(e.getKey()).append(": ").append(e.getValue());
        }
        for (Entry e : skipped()) {
            sb.append("\n  skipped ").append(e.fileKey()).append(" (").append(e.outcome());
            if (e.parameterKey() != null) {
                sb.append(" of ").append(e.parameterKey());
            }
            if (e.detail() != null) {
                sb.append(": ").append(e.detail());
            }
            sb.append(')');
        }
        for (String key : untouched) {
            sb.append(backbone == null ? "\n  untouched " : "\n  left as initialised ").append(key);
        }
        return sb.toString();
    }
}
