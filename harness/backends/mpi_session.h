// MPI for the one-process-per-GPU launch: initialised once by main() when launched under mpirun
// (RAII: finalised when main returns), and the process's rank for "only rank 0 prints".
#pragma once

namespace sb {

bool launched_under_mpi();  // OMPI_/PMI_/PMIX_ variables present

class mpi_session {
 public:
  mpi_session(int* argc, char*** argv);  // throws config_error when this build has no MPI
  ~mpi_session();
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;
  int rank() const { return m_rank; }
  int size() const { return m_size; }

 private:
  int m_rank = 0;
  int m_size = 1;
};

}  // namespace sb
