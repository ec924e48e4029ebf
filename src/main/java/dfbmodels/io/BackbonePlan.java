package dfbmodels.io;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dfbmodels.io.LoadReport.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a backbone load does with every tensor of a file, decided from the headers alone: which
 * tensor (or part of it) goes into which parameter, whole or into a leading slice, and what is
 * skipped and why; or the refusal, listing everything that makes the file not a backbone of the
 * model. Nothing is read or written here.
 */
final class BackbonePlan {

    /** A parameter's new value from the file: a tensor, or a part of it, whole or into a slice. */
    record Copy(String modelKey, Parameter param, TensorEntry entry, BackboneLayout.Part part) {}

    final List<Copy> copies = new ArrayList<>();
    final List<LoadReport.Entry> entries = new ArrayList<>();
    final Map<String, Integer> stripped = new LinkedHashMap<>();

    /** Parameters whose every value comes from the file: what {@code optFreeze} freezes. */
    final Set<String> fromFile = new HashSet<>();

    private final List<String> missing = new ArrayList<>();
    private final List<String> unexpected = new ArrayList<>();
    private final List<String> mismatched = new ArrayList<>();
    private final List<String> badTypes = new ArrayList<>();
    private final List<String> hints = new ArrayList<>();

    private BackbonePlan() {}

    /**
     * Plans a load.
     *
     * @throws MalformedModelException if the file is not a backbone of the model, with every
     *     missing key, key of another architecture, shape mismatch and type problem
     */
    static BackbonePlan of(
            BackboneLayout layout,
            Map<String, Parameter> params,
            List<TensorEntry> tensors,
            Path file,
            BackboneOptions options)
            throws MalformedModelException {
        BackbonePlan plan = new BackbonePlan();
        Map<String, TensorEntry> byKey = new LinkedHashMap<>();
        for (TensorEntry t : tensors) {
            String key = TorchWeights.strip(t.key, params, plan.stripped);
            TensorEntry clash = byKey.put(key, t);
            if (clash != null) {
                throw new MalformedModelException(
                        "weights in "
                                + file
                                + ": keys '"
                                + clash.key
                                + "' and '"
                                + t.key
                                + "' both name tensor "
                                + key);
            }
            plan.place(layout, params, key, t, options);
        }
        for (String key : layout.expected.keySet()) {
            if (!byKey.containsKey(key) && !layout.optional.contains(key)) {
                plan.missing.add(key);
            }
        }
        if (!plan.missing.isEmpty()
                || !plan.unexpected.isEmpty()
                || !plan.mismatched.isEmpty()
                || !plan.badTypes.isEmpty()) {
            throw plan.refusal(file, layout, byKey);
        }
        return plan;
    }

    private void place(
            BackboneLayout layout,
            Map<String, Parameter> params,
            String key,
            TensorEntry t,
            BackboneOptions options) {
        Shape shape = t.shape();
        String name = key.equals(t.key) ? key : key + " (" + t.key + " in the file)";
        String skip = layout.skipReason(key, shape);
        if (skip != null) {
            entries.add(new LoadReport.Entry(t.key, null, Outcome.SKIPPED, skip));
            return;
        }
        if (!layout.expected.containsKey(key)) {
            if (layout.inNamespace(key) && key.endsWith(".num_batches_tracked")) {
                entries.add(new LoadReport.Entry(t.key, null, Outcome.UNUSED));
            } else if (layout.inNamespace(key)) {
                unexpected.add(name);
            } else {
                entries.add(
                        new LoadReport.Entry(
                                t.key,
                                null,
                                Outcome.SKIPPED,
                                "not part of a " + layout.describe() + " state_dict"));
            }
            return;
        }
        String modelKey = layout.target(key);
        Parameter p = params.get(modelKey);
        Shape have = p == null ? null : p.getArray().getShape();
        if (!layout.fits(key, shape)) {
            mismatched.add(
                    name
                            + ": expected "
                            + BackboneLayout.str(layout.expected.get(key))
                            + ", found "
                            + BackboneLayout.str(shape));
            addHint(layout.hint(key, shape, have));
            return;
        }
        BackboneLayout.Part part = layout.sourcePart(key, shape);
        Shape source = part == null ? shape : part.shape();
        if (have == null || !contains(have, source)) {
            mismatched.add(
                    name
                            + ": the model's "
                            + modelKey
                            + (have == null ? " does not exist" : " " + BackboneLayout.str(have))
                            + " cannot take "
                            + BackboneLayout.str(source));
            addHint(layout.hint(key, shape, have));
            return;
        }
        String typeProblem = TorchWeights.typeProblem(t, p.getArray().getDataType());
        if (typeProblem != null) {
            badTypes.add(name + ": " + typeProblem);
            return;
        }
        boolean whole = part == null && have.equals(shape);
        entries.add(
                new LoadReport.Entry(
                        t.key,
                        modelKey,
                        whole ? Outcome.LOADED : Outcome.SLICED,
                        whole ? null : describeSlice(part, source, have, options)));
        copies.add(new Copy(modelKey, p, t, part));
        if (source.equals(have)) {
            fromFile.add(modelKey);
        }
    }

    private static boolean contains(Shape model, Shape file) {
        if (model.dimension() != file.dimension()) {
            return false;
        }
        for (int i = 0; i < model.dimension(); i++) {
            if (model.get(i) < file.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** Which part of the file's tensor went where, e.g. {@code into [:, :64] of (64, 72, 3, 3)}. */
    private static String describeSlice(
            BackboneLayout.Part part, Shape source, Shape model, BackboneOptions options) {
        if (part != null && source.equals(model)) {
            return part.description();
        }
        StringBuilder sb = new StringBuilder();
        if (part != null) {
            sb.append(part.description()).append(", ");
        }
        sb.append("into [");
        for (int i = 0; i < source.dimension(); i++) {
            sb.append(i == 0 ? "" : ", ");
            sb.append(source.get(i) == model.get(i) ? ":" : ":" + source.get(i));
        }
        sb.append("] of ").append(BackboneLayout.str(model));
        if (source.dimension() >= 2 && model.get(1) > source.get(1)) {
            sb.append(options.zeroFeedbackInputs() ? "; zero in [" : "; as initialised in [")
                    .append(source.get(0) == model.get(0) ? ":" : ":" + source.get(0))
                    .append(", ")
                    .append(source.get(1))
                    .append(":]");
        }
        if (model.get(0) > source.get(0)) {
            sb.append("; [").append(source.get(0)).append(":] as initialised");
        }
        return sb.toString();
    }

    private void addHint(String hint) {
        if (hint != null && !hints.contains(hint)) {
            hints.add(hint);
        }
    }

    private MalformedModelException refusal(
            Path file, BackboneLayout layout, Map<String, TensorEntry> byKey) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        byKey.forEach((k, t) -> shapes.put(k, t.shape()));
        StringBuilder sb =
                new StringBuilder("weights in ")
                        .append(file)
                        .append(" are not a backbone of this model, which takes a ")
                        .append(layout.describe())
                        .append("; nothing was loaded.\n  ")
                        .append(BackboneIdentity.of(shapes));
        for (String hint : hints) {
            sb.append("\n  ").append(hint);
        }
        TorchWeights.appendList(sb, "missing keys", missing);
        TorchWeights.appendList(sb, "keys that architecture does not have", unexpected);
        TorchWeights.appendList(sb, "shape mismatches", mismatched);
        TorchWeights.appendList(sb, "unsupported types", badTypes);
        for (Map.Entry<String, Integer> s : stripped.entrySet()) {
            sb.append("\n  (prefix '")
                    .append(s.getKey())
                    .append("' stripped from ")
                    .append(s.getValue())
                    .append(" keys)");
        }
        return new MalformedModelException(sb.toString());
    }
}
