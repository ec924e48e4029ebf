package dfbmodels.nn;

import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;

/**
 * A {@link SequentialBlock} whose children carry names, like a PyTorch {@code nn.Sequential} built
 * from an {@code OrderedDict} or a module's named attributes.
 *
 * <p>The names are what {@link dfbmodels.io.TorchNames} uses to derive PyTorch {@code state_dict}
 * keys, so that a model's parameters map 1:1 to the original's.
 */
public class NamedSequentialBlock extends SequentialBlock {

    /**
     * Appends a named child block.
     *
     * @param name the child's name (the PyTorch attribute name)
     * @param block the block
     * @return this block
     */
    public NamedSequentialBlock add(String name, Block block) {
        addChildBlock(name, block);
        return this;
    }
}
