package dfbmodels.io;

import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.util.Pair;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.NamedSequentialBlock;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Derives the PyTorch {@code state_dict} key of every parameter of a block tree.
 *
 * <p>Rules, mirroring how PyTorch names modules: a child of a plain {@link SequentialBlock} is
 * named by its index (like {@code nn.Sequential}); a child of any other block by the name it was
 * added with; the frontend, body and readout of a {@link FeedbackBlock} add no name (the original
 * holds their modules as direct attributes). BatchNorm's {@code gamma, beta, runningMean,
 * runningVar} become {@code weight, bias, running_mean, running_var}, LayerNorm's {@code gamma,
 * beta} {@code weight, bias}.
 */
public final class TorchNames {

    private static final Set<String> FLATTENED = Set.of("frontend", "body", "readout");

    private TorchNames() {}

    /**
     * Returns every parameter of {@code block} under its PyTorch key, in DJL's order.
     *
     * @param block the root block
     * @return the parameters by PyTorch key
     */
    public static Map<String, Parameter> of(Block block) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        walk(block, "", out, new IdentityHashMap<>());
        return out;
    }

    /**
     * Returns the PyTorch module path of every block of a tree ({@code layer1.2}), without the
     * trailing dot; the root and blocks PyTorch has no module for map to {@code ""}.
     */
    static Map<Block, String> modulePaths(Block root) {
        Map<Block, String> paths = new IdentityHashMap<>();
        walk(root, "", new LinkedHashMap<>(), paths);
        return paths;
    }

    private static void walk(
            Block block, String prefix, Map<String, Parameter> out, Map<Block, String> paths) {
        paths.put(block, prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1));
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            out.put(prefix + parameterName(block, p.getKey()), p.getValue());
        }
        boolean indexed =
                (block instanceof SequentialBlock && !(block instanceof NamedSequentialBlock))
                        || block instanceof ParallelBlock;
        for (Pair<String, Block> child : block.getChildren()) {
            String key = child.getKey();
            String name = key.substring(2);
            String segment;
            if (block instanceof FeedbackBlock && FLATTENED.contains(name)) {
                segment = "";
            } else if (indexed) {
                segment = String.valueOf(Integer.parseInt(key.substring(0, 2)) - 1);
            } else {
                segment = name;
            }
            walk(child.getValue(), segment.isEmpty() ? prefix : prefix + segment + ".", out, paths);
        }
    }

    private static String parameterName(Block block, String djlName) {
        if (block instanceof BatchNorm || block instanceof LayerNorm) {
            switch (djlName) {
                case "gamma":
                    return "weight";
                case "beta":
                    return "bias";
                case "runningMean":
                    return "running_mean";
                case "runningVar":
                    return "running_var";
                default:
                    return djlName;
            }
        }
        return djlName;
    }
}
