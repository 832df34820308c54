// spin: loops forever without a system call. Only timer preemption lets anything else run on its hart.
int main() {
    unsigned long i = 0;
    for (;;) asm volatile("addi %0, %0, 1" : "+r"(i));
}
