using System.Collections;

namespace TorchSerial.Python;

public sealed partial class PyDict
{
    /// <summary>Walks the slots in insertion order, skipping holes; a change to the dict under it fails the walk, as
    /// Python's "dictionary changed size during iteration" does.</summary>
    private sealed class Enumerator(PyDict dict, Enumerator.Yield yield) : IDictionaryEnumerator
    {
        public enum Yield { Entries, Keys, Values }

        private readonly int _version = dict._version;
        private int _at = -1;

        public bool MoveNext()
        {
            if (_version != dict._version)
                throw new InvalidOperationException("The dict was changed while it was being enumerated.");
            while (++_at < dict._used)
                if (!ReferenceEquals(dict._slots[_at].Key, Hole)) return true;
            _at = dict._used;
            return false;
        }

        public void Reset() => _at = -1;

        public DictionaryEntry Entry => new(Key, Value);

        public object Key => Current(keys: true)!;

        public object? Value => Current(keys: false);

        object IEnumerator.Current => yield switch
        {
            Yield.Keys => Key,
            Yield.Values => Value!,
            _ => Entry,
        };

        private object? Current(bool keys)
        {
            if (_at < 0 || _at >= dict._used)
                throw new InvalidOperationException("The enumeration is not on an entry.");
            return keys ? dict._slots[_at].Key : dict._slots[_at].Value;
        }
    }

    /// <summary>The live keys or values of a dict, in order (what <see cref="Keys"/> and <see cref="Values"/>
    /// return).</summary>
    private sealed class View(PyDict dict, bool keys) : ICollection
    {
        public int Count => dict.Count;

        public bool IsSynchronized => false;

        public object SyncRoot => dict;

        public void CopyTo(Array array, int index)
        {
            ArgumentNullException.ThrowIfNull(array);
            if (index < 0 || array.Length - index < dict.Count) throw new ArgumentOutOfRangeException(nameof(index));
            foreach (var item in this) array.SetValue(item, index++);
        }

        public IEnumerator GetEnumerator()
            => new Enumerator(dict, keys ? Enumerator.Yield.Keys : Enumerator.Yield.Values);
    }
}
