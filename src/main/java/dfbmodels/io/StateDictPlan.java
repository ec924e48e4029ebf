package dfbmodels.io;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dfbmodels.io.LoadReport.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a {@link TorchWeights#load(ai.djl.nn.Block, Path, boolean) state_dict load} does with every
 * tensor of a file, decided from the headers alone: which tensor goes into which parameter (its own
 * key, or one of the original's aliases), what is skipped and what is left untouched; or the
 * refusal, listing every missing key, unexpected key, shape mismatch and type problem.
 */
final class StateDictPlan {

    private static final Map<String, String> ALIASES =
            Map.of(
                    "frontend.0.", "conv1.",
                    "frontend.1.", "bn1.",
                    "classification_head.2.", "fc.");
    private static final Set<String> UNUSED =
            Set.of("T", "layernorm_weight", "error_head.T", "error_head.Qinv");

    final Map<Parameter, TensorEntry> assignments = new LinkedHashMap<>();
    final List<LoadReport.Entry> entries = new ArrayList<>();
    final List<String> untouched = new ArrayList<>();
    final Map<String, Integer> stripped = new LinkedHashMap<>();

    private StateDictPlan() {}

    /**
     * Plans a load.
     *
     * @throws MalformedModelException if the file does not fit the model, listing every problem
     */
    static StateDictPlan of(
            Map<String, Parameter> params, List<TensorEntry> tensors, boolean strict, Path file)
            throws MalformedModelException {
        StateDictPlan plan = new StateDictPlan();
        // the file's keys, prefixes stripped
        Map<String, TensorEntry> byKey = new LinkedHashMap<>();
        Map<TensorEntry, String> stripped = new HashMap<>();
        for (TensorEntry t : tensors) {
            String key = TorchWeights.strip(t.key, params, plan.stripped);
            TensorEntry clash = byKey.put(key, t);
            if (clash != null) {
                throw new MalformedModelException(
                        "weights in "
                                + file
                                + " do not fit the model: keys '"
                                + clash.key
                                + "' and '"
                                + t.key
                                + "' both name parameter "
                                + key);
            }
            stripped.put(t, key);
        }
        Map<TensorEntry, LoadReport.Entry> outcomes = new HashMap<>();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        List<String> badTypes = new ArrayList<>();
        for (Map.Entry<String, Parameter> p : params.entrySet()) {
            String key = p.getKey();
            TensorEntry value = byKey.get(key);
            for (Map.Entry<String, String> alias : ALIASES.entrySet()) {
                if (key.startsWith(alias.getValue())) {
                    String aliasKey = alias.getKey() + key.substring(alias.getValue().length());
                    TensorEntry aliased = byKey.get(aliasKey);
                    if (aliased != null && value != null) {
                        outcomes.put(
                                aliased, new LoadReport.Entry(aliased.key, key, Outcome.ALIAS));
                    } else if (aliased != null) {
                        value = aliased;
                    }
                }
            }
            if (value == null) {
                missing.add(key);
                plan.untouched.add(key);
                continue;
            }
            outcomes.put(value, new LoadReport.Entry(value.key, key, Outcome.LOADED));
            String name = value.key.equals(key) ? key : key + " (" + value.key + " in the file)";
            NDArray target = p.getValue().getArray();
            if (!value.shape().equals(target.getShape())) {
                mismatched.add(
                        name + ": expected " + target.getShape() + ", found " + value.shape());
                continue;
            }
            String typeProblem = TorchWeights.typeProblem(value, target.getDataType());
            if (typeProblem != null) {
                badTypes.add(name + ": " + typeProblem);
                continue;
            }
            plan.assignments.put(p.getValue(), value);
        }
        List<String> unexpected = new ArrayList<>();
        for (TensorEntry t : tensors) {
            if (outcomes.containsKey(t)) {
                continue;
            }
            String key = stripped.get(t);
            boolean unused = UNUSED.contains(key) || key.endsWith(".num_batches_tracked");
            if (!unused) {
                unexpected.add(t.key);
            }
            outcomes.put(
                    t,
                    new LoadReport.Entry(
                            t.key, null, unused ? Outcome.UNUSED : Outcome.UNEXPECTED));
        }
        if (!mismatched.isEmpty()
                || !badTypes.isEmpty()
                || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            StringBuilder sb =
                    new StringBuilder("weights in ").append(file).append(" do not fit the model:");
            if (strict) {
                TorchWeights.appendList(sb, "missing keys", missing);
                TorchWeights.appendList(sb, "unexpected keys", unexpected);
            }
            TorchWeights.appendList(sb, "shape mismatches", mismatched);
            TorchWeights.appendList(sb, "unsupported types", badTypes);
            for (Map.Entry<String, Integer> s : plan.stripped.entrySet()) {
                sb.append("\n  (prefix '")
                        .append(s.getKey())
                        .append("' stripped from ")
                        .append(s.getValue())
                        .append(" keys)");
            }
            throw new MalformedModelException(sb.toString());
        }
        for (TensorEntry t : tensors) {
            plan.entries.add(outcomes.get(t));
        }
        return plan;
    }
}
