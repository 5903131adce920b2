"""qkv.Tensor ↔ NumPy: no copies either way (writes through one show in the
other), the owner kept alive by the view, strided layouts, and clear errors
for dtypes and layouts qkv cannot share."""
import gc
import unittest

import numpy as np

import qkv


class NumpyToQkv(unittest.TestCase):
    def test_shares_memory_both_ways(self):
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        t = qkv.tensor(a)
        self.assertEqual(t.shape, (2, 3))
        self.assertEqual(t.dtype, "float32")
        self.assertTrue(t.is_contiguous())
        v = np.asarray(t)
        self.assertTrue(np.shares_memory(a, v))
        a[0, 0] = 42  # NumPy → qkv
        self.assertEqual(np.asarray(t)[0, 0], 42)
        v[1, 2] = -7  # qkv's view → the original array
        self.assertEqual(a[1, 2], -7)

    def test_the_tensor_keeps_the_array_alive(self):
        t = qkv.Tensor.from_numpy(np.full((1000,), 3.5, dtype=np.float32))
        gc.collect()
        junk = [np.zeros(1000, dtype=np.float32) for _ in range(10)]  # reuse freed memory, if any were freed
        self.assertTrue((np.asarray(t) == 3.5).all())
        del junk

    def test_strided_arrays_are_views_too(self):
        a = np.arange(12, dtype=np.int64).reshape(3, 4)
        for view in (a[:, ::2], a.T, a[1:, 1:3]):
            t = qkv.tensor(view)
            self.assertEqual(t.shape, view.shape)
            self.assertTrue(np.shares_memory(np.asarray(t), a))
            np.testing.assert_array_equal(np.asarray(t), view)
            np.testing.assert_array_equal(np.asarray(t.contiguous()), view)
        self.assertEqual(qkv.tensor(a[:, ::2]).strides, (4, 2))
        self.assertFalse(qkv.tensor(a.T).is_contiguous())

    def test_every_shared_dtype(self):
        for dt, name in [(np.float32, "float32"), (np.int64, "int64"), (np.int32, "int32"), (np.int8, "int8"),
                         (np.uint8, "uint8"), (np.bool_, "bool")]:
            a = np.array([[1, 0], [0, 1]], dtype=dt)
            t = qkv.tensor(a)
            self.assertEqual(t.dtype, name)
            back = np.asarray(t)
            self.assertEqual(back.dtype, np.dtype(dt))
            self.assertTrue(np.shares_memory(a, back))
            np.testing.assert_array_equal(back, a)

    def test_zero_dim_and_empty(self):
        np.testing.assert_array_equal(np.asarray(qkv.tensor(np.float32(2.5) * np.ones((), np.float32))), 2.5)
        self.assertEqual(np.asarray(qkv.tensor(np.zeros((0, 3), np.float32))).shape, (0, 3))

    def test_bad_dtypes_and_layouts_are_clear_errors(self):
        with self.assertRaisesRegex(ValueError, r"float64 has no qkv dtype.*astype\(np.float32\)"):
            qkv.tensor(np.zeros(3))
        with self.assertRaisesRegex(ValueError, r"int16 has no qkv dtype"):
            qkv.tensor(np.zeros(3, dtype=np.int16))
        with self.assertRaisesRegex(ValueError, r"negative stride"):
            qkv.tensor(np.arange(4, dtype=np.float32)[::-1])
        ro = np.zeros(3, dtype=np.float32)
        ro.flags.writeable = False
        with self.assertRaisesRegex(ValueError, r"read-only.*a.copy\(\)"):
            qkv.tensor(ro)
        packed = np.zeros(4, dtype=[("a", np.int8), ("b", np.float32)])
        with self.assertRaises(ValueError):
            qkv.tensor(packed["b"])  # 5-byte stride of 4-byte floats


class QkvToNumpy(unittest.TestCase):
    def test_writes_through_the_view(self):
        t = qkv.zeros([2, 3])
        v = np.asarray(t)
        v[:] = 1.5
        np.testing.assert_array_equal(np.asarray(t), np.full((2, 3), 1.5, np.float32))
        self.assertTrue(np.shares_memory(v, t.numpy()))

    def test_the_view_keeps_the_tensor_alive(self):
        t = qkv.zeros([4], dtype="int64")
        v = np.asarray(t)
        del t
        gc.collect()
        v += 3
        np.testing.assert_array_equal(v, [3, 3, 3, 3])

    def test_bfloat16_has_no_numpy_dtype(self):
        with self.assertRaisesRegex(ValueError, r"bfloat16.*t.to\('float32'\)"):
            np.asarray(qkv.zeros([2], dtype="bfloat16"))
        np.testing.assert_array_equal(np.asarray(qkv.zeros([2], dtype="bfloat16").to("float32")), [0, 0])
        with self.assertRaisesRegex(ValueError, r"unknown dtype 'f16'"):
            qkv.zeros([2], dtype="f16")


if __name__ == "__main__":
    unittest.main()
