package dfbmodels.io;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link TorchWeights#loadBackbone(Block, Path, BackboneOptions)}: plans the whole load against the
 * model's {@link BackboneLayout} ({@link BackbonePlan}, which refuses a file that is not a backbone
 * of the model), computes every new value, and only then writes and freezes.
 */
final class BackboneLoader {

    private static final Logger logger = LoggerFactory.getLogger(TorchWeights.class);

    private BackboneLoader() {}

    static LoadReport load(Block model, Path file, BackboneOptions options)
            throws IOException, MalformedModelException {
        Map<String, Parameter> params = TorchWeights.initialisedParameters(model);
        BackboneLayout layout = BackboneLayout.of(model, params);
        try (TensorFile tensors = TensorFile.open(file);
                NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            BackbonePlan plan = BackbonePlan.of(layout, params, tensors.entries(), file, options);

            // every new value, computed before anything is written
            Map<Parameter, NDArray> values = new LinkedHashMap<>();
            for (BackbonePlan.Copy c : plan.copies) {
                NDArray value = c.entry().decode(manager, tensors.read(c.entry()));
                if (c.part() != null) {
                    value = value.get(new NDIndex(c.part().index()));
                }
                NDArray target = c.param().getArray();
                value = value.toType(target.getDataType(), false);
                if (!value.getShape().equals(target.getShape())) {
                    value = slice(manager, target, value, options.zeroFeedbackInputs());
                }
                values.put(c.param(), value);
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
                initialised.put(
                        r.getKey(),
                        r.getValue().describe(value.getShape(), options.zeroFeedbackInputs()));
            }
            for (Map.Entry<Parameter, NDArray> v : values.entrySet()) {
                v.getKey().getArray().set(v.getValue().toByteBuffer());
            }

            List<String> frozen = new ArrayList<>();
            List<String> untouched = new ArrayList<>();
            for (Map.Entry<String, Parameter> p : params.entrySet()) {
                String key = p.getKey();
                Parameter param = p.getValue();
                if (!values.containsKey(param)) {
                    untouched.add(key);
                } else if (options.freeze()
                        && plan.fromFile.contains(key)
                        && !layout.isHead(key)
                        && param.requiresGradient()) {
                    param.freeze(true);
                    frozen.add(key);
                }
            }
            LoadReport report =
                    new LoadReport(
                            file,
                            false,
                            layout.describe(),
                            params.size(),
                            plan.entries,
                            untouched,
                            plan.stripped,
                            initialised,
                            frozen);
            logger.info("{}", report);
            return report;
        }
    }

    /**
     * The model's value with {@code file} in its leading corner and, by option, zeros from the
     * extra inputs (axis 1) into the copied outputs (the leading rows).
     */
    private static NDArray slice(
            NDManager manager, NDArray target, NDArray file, boolean zeroFeedbackInputs) {
        NDArray value = copyOf(manager, target);
        Shape f = file.getShape();
        NDIndex corner = new NDIndex();
        for (int i = 0; i < f.dimension(); i++) {
            corner.addSliceDim(0, f.get(i));
        }
        value.set(corner, file);
        if (zeroFeedbackInputs && f.dimension() >= 2 && target.getShape().get(1) > f.get(1)) {
            value.set(new NDIndex(":{}, {}:", f.get(0), f.get(1)), 0f);
        }
        return value;
    }

    private static NDArray copyOf(NDManager manager, NDArray array) {
        NDArray copy = array.toDevice(Device.cpu(), true);
        copy.attach(manager);
        return copy;
    }
}
