package dfbmodels;

import ai.djl.ndarray.NDArray;

/**
 * Constants that autograd may keep: LibTorch-owned 0-d arrays.
 *
 * <p>DJL's {@code mul(Number)} wraps the number in an array that {@code torch::from_blob} reads
 * from a Java buffer, and closes it right after the product. Autograd saves that operand for the
 * backward pass, but once the Java array is closed its buffer may be collected and reused: the
 * backward then multiplies by garbage (seen here as gradients off by a factor of 1e-9 in one
 * training step out of four). A clone is owned by LibTorch and lives as long as autograd needs it.
 */
final class Scalars {

    private Scalars() {}

    /**
     * Returns {@code value} as a 0-d array of {@code like}'s data type on its device, owned by
     * LibTorch, in {@code like}'s manager.
     */
    static NDArray of(NDArray like, double value) {
        try (NDArray blob = like.getManager().create(value)) {
            return blob.toType(like.getDataType(), false)
                    .toDevice(like.getDevice(), false)
                    .duplicate();
        }
    }
}
