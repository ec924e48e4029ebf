package dfbmodels.io;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dfbmodels.io.LoadReport.Outcome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link TorchWeights#loadBackbone(Block, Path, BackboneOptions)}: plans the whole load against the
 * model's {@link BackboneLayout}, refuses a file that is not a backbone of the model, computes
 * every new value, and only then writes.
 */
final class BackboneLoader {

    private static final Logger logger = LoggerFactory.getLogger(TorchWeights.class);

    private BackboneLoader() {}

    /** One parameter's new value from the file: a tensor, or part of it, into a leading slice. */
    private record Copy(String modelKey, Parameter param, TensorEntry entry, String part) {}

    static LoadReport load(Block model, Path file, BackboneOptions options)
            throws IOException, MalformedModelException {
        Map<String, Parameter> params = TorchWeights.initialisedParameters(model);
        BackboneLayout layout = BackboneLayout.of(model, params);
        try (TensorFile tensors = TensorFile.open(file);
                NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Map<String, Integer> stripped = new LinkedHashMap<>();
            List<LoadReport.Entry> entries = new ArrayList<>();
            List<Copy> copies = new ArrayList<>();
            // parameters whose every value comes from the file: what optFreeze freezes
            Set<String> fromFile = new HashSet<>();
            List<String> missing = new ArrayList<>();
            List<String> unexpected = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            List<String> badTypes = new ArrayList<>();
            List<String> hints = new ArrayList<>();
            Map<String, TensorEntry> byKey = new HashMap<>();
            for (TensorEntry t : tensors.entries()) {
                String key = TorchWeights.strip(t.key, params, stripped);
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
                Shape shape = t.shape();
                String skip = layout.skipReason(key, shape);
                Shape want = layout.expected.get(key);
                if (skip != null) {
                    entries.add(new LoadReport.Entry(t.key, null, Outcome.SKIPPED, skip));
                } else if (want != null) {
                    String modelKey = layout.target(key);
                    Parameter p = params.get(modelKey);
                    Shape have = p.getArray().getShape();
                    String name = key.equals(t.key) ? key : key + " (" + t.key + " in the file)";
                    String part = layout.sourcePart(key);
                    Shape source = layout.sourceShape(key, shape);
                    if (!shape.equals(want)) {
                        mismatched.add(
                                name
                                        + ": expected "
                                        + BackboneLayout.str(want)
                                        + ", found "
                                        + BackboneLayout.str(shape));
                        addHint(hints, layout.hint(key, shape, have));
                    } else if (!contains(have, source)) {
                        mismatched.add(
                                name
                                        + ": the model's "
                                        + modelKey
                                        + " "
                                        + BackboneLayout.str(have)
                                        + " cannot take "
                                        + BackboneLayout.str(source));
                        addHint(hints, layout.hint(key, shape, have));
                    } else {
                        String typeProblem =
                                TorchWeights.typeProblem(t, p.getArray().getDataType());
                        if (typeProblem != null) {
                            badTypes.add(name + ": " + typeProblem);
                        }
                        boolean whole = part == null && have.equals(shape);
                        entries.add(
                                new LoadReport.Entry(
                                        t.key,
                                        modelKey,
                                        whole ? Outcome.LOADED : Outcome.SLICED,
                                        whole
                                                ? null
                                                : describeSlice(
                                                        layout, key, shape, source, have,
                                                        options)));
                        copies.add(new Copy(modelKey, p, t, part));
                        if (source.equals(have)) {
                            fromFile.add(modelKey);
                        }
                    }
                } else if (layout.inNamespace(key) && key.endsWith(".num_batches_tracked")) {
                    entries.add(new LoadReport.Entry(t.key, null, Outcome.UNUSED));
                } else if (layout.inNamespace(key)) {
                    unexpected.add(key.equals(t.key) ? key : key + " (" + t.key + " in the file)");
                } else {
                    entries.add(
                            new LoadReport.Entry(
                                    t.key,
                                    null,
                                    Outcome.SKIPPED,
                                    "not part of a " + layout.describe() + " state_dict"));
                }
            }
            for (String key : layout.expected.keySet()) {
                if (!byKey.containsKey(key) && !layout.optional.contains(key)) {
                    missing.add(key);
                }
            }
            if (!missing.isEmpty()
                    || !unexpected.isEmpty()
                    || !mismatched.isEmpty()
                    || !badTypes.isEmpty()) {
                throw refusal(
                        file, layout, byKey, missing, unexpected, mismatched, badTypes, hints);
            }

            // every new value, computed before anything is written
            Map<Parameter, NDArray> values = new LinkedHashMap<>();
            for (Copy c : copies) {
                NDArray value = c.entry.decode(manager, tensors.read(c.entry));
                if (c.part != null) {
                    value = value.get(new NDIndex(c.part));
                }
                NDArray target = c.param.getArray();
                value = value.toType(target.getDataType(), false);
                if (!value.getShape().equals(target.getShape())) {
                    value = slice(manager, target, value, options.zeroFeedbackInputs());
                }
                values.put(c.param, value);
            }
            Map<String, String> initialised = new LinkedHashMap<>();
            for (Map.Entry<String, BackboneLayout.Rule> r : layout.rules.entrySet()) {
                Parameter p = params.get(r.getKey());
                if (p == null || values.containsKey(p)) {
                    continue;
                }
                NDArray value = copyOf(manager, p.getArray());
                r.getValue().apply(value, options.zeroFeedbackInputs());
                values.put(p, value);
                initialised.put(r.getKey(), r.getValue().describe(options.zeroFeedbackInputs()));
            }
            for (Map.Entry<Parameter, NDArray> v : values.entrySet()) {
                v.getKey().getArray().set(v.getValue().toByteBuffer());
            }

            List<String> frozen = new ArrayList<>();
            List<String> untouched = new ArrayList<>();
            for (Map.Entry<String, Parameter> p : params.entrySet()) {
                String key = p.getKey();
                if (!values.containsKey(p.getValue())) {
                    untouched.add(key);
                } else if (options.freeze() && fromFile.contains(key) && !layout.isHead(key)) {
                    p.getValue().freeze(true);
                    frozen.add(key);
                }
            }
            LoadReport report =
                    new LoadReport(
                            file,
                            false,
                            layout.describe(),
                            params.size(),
                            entries,
                            untouched,
                            stripped,
                            initialised,
                            frozen);
            logger.info("{}", report);
            return report;
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

    /**
     * The model's value with {@code file} in its leading corner and, by option, zeros from the
     * extra inputs (axis 1) into the copied outputs (the leading rows).
     */
    private static NDArray slice(
            NDManager manager, NDArray target, NDArray file, boolean zeroFeedbackInputs) {
        NDArray value = copyOf(manager, target);
        Shape f = file.getShape();
        value.set(corner(f), file);
        if (zeroFeedbackInputs && f.dimension() >= 2 && target.getShape().get(1) > f.get(1)) {
            value.set(new NDIndex(":{}, {}:", f.get(0), f.get(1)), 0f);
        }
        return value;
    }

    private static NDIndex corner(Shape f) {
        NDIndex index = new NDIndex();
        for (int i = 0; i < f.dimension(); i++) {
            index.addSliceDim(0, f.get(i));
        }
        return index;
    }

    private static NDArray copyOf(NDManager manager, NDArray array) {
        NDArray copy = array.toDevice(Device.cpu(), true);
        copy.attach(manager);
        return copy;
    }

    private static String describeSlice(
            BackboneLayout layout,
            String key,
            Shape file,
            Shape source,
            Shape model,
            BackboneOptions options) {
        String part = layout.describeSourcePart(key, file);
        if (part != null && source.equals(model)) {
            return part;
        }
        StringBuilder sb = new StringBuilder();
        if (part != null) {
            sb.append(part).append(", ");
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
            sb.append(source.dimension() >= 2 ? "; rows [" : "; [")
                    .append(source.get(0))
                    .append(":] as initialised");
        }
        return sb.toString();
    }

    private static void addHint(List<String> hints, String hint) {
        if (hint != null && !hints.contains(hint)) {
            hints.add(hint);
        }
    }

    private static MalformedModelException refusal(
            Path file,
            BackboneLayout layout,
            Map<String, TensorEntry> byKey,
            List<String> missing,
            List<String> unexpected,
            List<String> mismatched,
            List<String> badTypes,
            List<String> hints) {
        StringBuilder sb =
                new StringBuilder("weights in ")
                        .append(file)
                        .append(" are not a backbone of this model, whose parameters imply a ")
                        .append(layout.describe())
                        .append(" (nothing was loaded):");
        TorchWeights.appendList(sb, "missing keys", missing);
        TorchWeights.appendList(sb, "keys that architecture does not have", unexpected);
        TorchWeights.appendList(sb, "shape mismatches", mismatched);
        TorchWeights.appendList(sb, "unsupported types", badTypes);
        for (String hint : hints) {
            sb.append("\n  ").append(hint);
        }
        if (missing.size() > layout.expected.size() / 2) {
            sb.append("\n  the file's keys: ")
                    .append(TorchWeights.abbreviate(new ArrayList<>(byKey.keySet())));
        }
        return new MalformedModelException(sb.toString());
    }
}
